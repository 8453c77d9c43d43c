import { MigeInputError } from '@mige/core';
import { OnnxModel, splitRows } from './onnx-session.js';

/**
 * Turns captions into a padded [N, L] batch of int64 token ids. Kept a callback so @mige/data
 * needs no tokenizer: CLIP's BPE (77 tokens, SOT/EOT) lives with the caller.
 */
export type Tokenize = (texts: readonly string[]) => { ids: BigInt64Array; shape: readonly [number, number] };

export interface TextEmbedder {
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

export interface TextEncoderOptions {
  inputName?: string;
  outputName?: string;
}

/** An ONNX text encoder (e.g. CLIP's text tower with projection); outputs are L2-normalised. */
export class OnnxTextEncoder implements TextEmbedder {
  private constructor(
    private readonly model: OnnxModel,
    private readonly tokenize: Tokenize,
  ) {}

  static async open(path: string, tokenize: Tokenize, options: TextEncoderOptions = {}): Promise<OnnxTextEncoder> {
    return new OnnxTextEncoder(await OnnxModel.open(path, options.inputName, options.outputName), tokenize);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const { ids, shape } = this.tokenize(texts);
    const [n, len] = shape;
    if (n !== texts.length || ids.length !== n * len) {
      throw new MigeInputError(
        `tokenizer returned shape [${shape.join(', ')}] with ${ids.length} ids for ${texts.length} texts`,
        this.model.path,
      );
    }
    const { data, dims } = await this.model.run(this.model.int64(ids, [n, len]));
    return splitRows(data, dims, n, this.model.path);
  }

  close(): Promise<void> {
    return this.model.close();
  }
}
