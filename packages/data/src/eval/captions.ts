import type { SceneAnnotation } from '../world/types.js';

/**
 * A plain caption of an annotated scene, for CLIP-T and CLIPdir: "a red star and a blue striped
 * circle on a yellow background". The world has no human captions; this one names exactly what
 * is there.
 */
export function captionScene(scene: SceneAnnotation): string {
  const things = scene.objects.map((o) => {
    const pattern = o.pattern === 'solid' ? '' : `${o.pattern === 'stripes' ? 'striped' : o.pattern === 'dots' ? 'dotted' : 'checked'} `;
    const words = `${o.color} ${pattern}${o.shape}`;
    return `${/^[aeiou]/.test(words) ? 'an' : 'a'} ${words}`;
  });
  const list = things.length <= 1 ? (things[0] ?? 'nothing') : `${things.slice(0, -1).join(', ')} and ${things[things.length - 1]}`;
  return `${list} on a ${scene.background.color} background`;
}
