/** The model folder (this package's own folder): config.json, model.safetensors, tokenizer.json, sampling.json. */
export declare const modelDir: string;
/** The model's name, as its config.json and the `mige --model` option call it. */
export declare const modelName: 'mige-world';
