/** An image of the instruction, as the UI holds it. */
export interface UiImage {
  id: string;
  /** File name, used in the copied CLI command. */
  name: string;
  dataUrl: string;
}

let counter = 0;
export function newImageId(): string {
  counter += 1;
  return `img-${Date.now().toString(36)}-${counter}`;
}

const MAX_SIDE = 1024;
const MAX_BYTES = 2 * 1024 * 1024;

function readAsDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.onerror = () => reject(reader.error ?? new Error('could not read the file'));
    reader.readAsDataURL(blob);
  });
}

function loadImage(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('not an image the browser can read'));
    img.src = url;
  });
}

function pngName(name: string): string {
  const stem = name.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_.-]+/g, '-') || 'image';
  return `${stem}.png`;
}

/**
 * A dropped, pasted or chosen file → PNG/JPEG data URL. Small PNG/JPEG files are sent as they
 * are; anything else (WebP, GIF, big photos) is redrawn as PNG at most 1024 px a side: the
 * model works at a far smaller size anyway.
 */
export async function fileToImage(file: File): Promise<UiImage> {
  if (!file.type.startsWith('image/')) throw new Error(`${file.name || 'the file'} is not an image`);
  const url = await readAsDataUrl(file);
  const img = await loadImage(url);
  const direct = (file.type === 'image/png' || file.type === 'image/jpeg') && file.size <= MAX_BYTES && Math.max(img.width, img.height) <= MAX_SIDE;
  if (direct) return { id: newImageId(), name: file.name || 'pasted.png', dataUrl: url };
  const scale = Math.min(1, MAX_SIDE / Math.max(img.width, img.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(img.width * scale));
  canvas.height = Math.max(1, Math.round(img.height * scale));
  canvas.getContext('2d')?.drawImage(img, 0, 0, canvas.width, canvas.height);
  return { id: newImageId(), name: pngName(file.name || 'pasted'), dataUrl: canvas.toDataURL('image/png') };
}

/** Unique file names (a.png, a-2.png, ...) for the copied CLI command. */
export function uniqueNames(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : name.replace(/(\.[^.]*)?$/, (ext) => `-${n}${ext}`);
  });
}

/** The image files a drop or a paste carries (other files are ignored). */
export function imageFiles(data: DataTransfer): File[] {
  return Array.from(data.files).filter((f) => f.type.startsWith('image/'));
}

/** Whether a drag carries files: only then does a drop target accept it. */
export function carriesFiles(data: DataTransfer): boolean {
  return Array.from(data.items).some((i) => i.kind === 'file');
}
