/**
 * JSON.parse silently keeps the last of duplicate keys, so a header could show one tensor to
 * one reader and another to the next. This scans already-valid JSON text and reports the first
 * key that repeats within one object.
 */
export interface DuplicateKey {
  key: string;
  /** Keys of the enclosing objects, outermost first ([] for the top level). */
  path: string[];
}

interface Frame {
  keys: Set<string> | undefined; // undefined for arrays
  expectKey: boolean;
  /** The key under which this object/array sits in its parent. */
  name: string;
}

/** End index (exclusive) of the string literal that starts with the quote at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x5c)
      i += 2; // backslash: skip the escaped character
    else if (c === 0x22) return i + 1;
    else i += 1;
  }
  return text.length;
}

export function findDuplicateJsonKey(text: string): DuplicateKey | undefined {
  const stack: Frame[] = [];
  let lastKey = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '"') {
      const end = stringEnd(text, i);
      if (top?.keys && top.expectKey) {
        const raw = text.slice(i + 1, end - 1);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end)) as string) : raw;
        if (top.keys.has(key)) {
          return { key, path: stack.slice(1).map((f) => f.name) };
        }
        top.keys.add(key);
        top.expectKey = false;
        lastKey = key;
      }
      i = end - 1;
    } else if (c === '{' || c === '[') {
      stack.push({
        keys: c === '{' ? new Set() : undefined,
        expectKey: c === '{',
        name: top?.keys ? lastKey : top ? '[]' : '',
      });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',' && top?.keys) {
      top.expectKey = true;
    }
  }
  return undefined;
}
