import { Fragment } from 'react';
import { PLACEHOLDER } from '../api/api-types.js';

/** An instruction for display: each `<imagehere>` shown as its image. */
export function InstructionText({ text, images }: { text: string; images: readonly string[] }) {
  const parts = text.split(PLACEHOLDER);
  return (
    <span className="instruction-text">
      {parts.map((part, i) => (
        <Fragment key={i}>
          {part}
          {i < parts.length - 1 && (images[i] ? <img className="inline-image" src={images[i]} alt={`image ${i + 1}`} /> : PLACEHOLDER)}
        </Fragment>
      ))}
    </span>
  );
}
