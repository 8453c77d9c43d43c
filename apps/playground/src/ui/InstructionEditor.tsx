import { forwardRef, useCallback, useEffect, useImperativeHandle, useRef } from 'react';
import { carriesFiles, imageFiles, type UiImage } from './images.js';
import type { Segment } from './segments.js';

export interface InstructionEditorHandle {
  /** Inserts image chips at the caret (or at the end when the editor never had the caret). */
  insertImages(images: readonly UiImage[]): void;
  /** Replaces the whole content; `images` holds every image the segments name. */
  setSegments(segments: readonly Segment[], images: Readonly<Record<string, UiImage>>): void;
  focus(): void;
}

interface Props {
  id: string;
  images: Readonly<Record<string, UiImage>>;
  /** Index (among the images) of the source, marked on its chip; null: no source (generate). */
  sourceSlot: number | null;
  onChange(segments: Segment[]): void;
  onSubmit(): void;
  onFiles(files: File[]): void;
  labelledBy: string;
  describedBy?: string;
}

function makeChip(image: UiImage): HTMLSpanElement {
  const chip = document.createElement('span');
  chip.className = 'chip';
  chip.contentEditable = 'false';
  chip.dataset.imageId = image.id;
  chip.setAttribute('role', 'img');
  const img = document.createElement('img');
  img.src = image.dataUrl;
  img.alt = '';
  const label = document.createElement('span');
  label.className = 'chip-label';
  chip.append(img, label);
  return chip;
}

/** The character just before a collapsed range ('' at the start); a chip counts as a non-space. */
function charBefore(range: Range): string {
  const { startContainer: node, startOffset: offset } = range;
  if (node.nodeType === Node.TEXT_NODE) {
    if (offset > 0) return (node.textContent ?? '').charAt(offset - 1);
    const prev = node.previousSibling;
    return prev ? (prev.textContent ?? '').slice(-1) || 'x' : '';
  }
  const prev = node.childNodes[offset - 1];
  return prev ? (prev.textContent ?? '').slice(-1) || 'x' : '';
}

/** Walks the editable DOM (browsers wrap edits in <div>/<br>) back into segments. */
function readSegments(root: Node): Segment[] {
  const out: Segment[] = [];
  const pushText = (text: string) => {
    const last = out[out.length - 1];
    if (last?.kind === 'text') last.text += text;
    else out.push({ kind: 'text', text });
  };
  const walk = (node: Node) => {
    for (const child of Array.from(node.childNodes)) {
      if (child.nodeType === Node.TEXT_NODE) pushText((child.textContent ?? '').replace(/\u00a0/g, ' '));
      else if (child instanceof HTMLElement && child.dataset.imageId) out.push({ kind: 'image', id: child.dataset.imageId });
      else if (child instanceof HTMLBRElement) pushText(' ');
      else walk(child);
    }
  };
  walk(root);
  return out;
}

/**
 * The instruction editor: a text field where each image sits as a chip at its `<imagehere>`
 * position. The DOM is managed here, not by React, so the caret survives re-renders.
 */
export const InstructionEditor = forwardRef<InstructionEditorHandle, Props>(function InstructionEditor(props, ref) {
  const { id, images, sourceSlot, onChange, onSubmit, onFiles, labelledBy, describedBy } = props;
  const el = useRef<HTMLDivElement>(null);
  const lastRange = useRef<Range | null>(null);

  const labelChips = useCallback(() => {
    const root = el.current;
    if (!root) return;
    root.querySelectorAll<HTMLElement>('.chip').forEach((chip, i) => {
      const isSource = sourceSlot === i;
      const name = images[chip.dataset.imageId ?? '']?.name ?? 'image';
      chip.classList.toggle('chip-source', isSource);
      chip.setAttribute('aria-label', `image ${i + 1}${isSource ? ' (source)' : ''}: ${name}`);
      chip.title = `${name}${isSource ? ' (source)' : ''}`;
      const label = chip.querySelector('.chip-label');
      const text = `${i + 1}${isSource ? ' · source' : ''}`;
      // Only on change: the observer below sees this write, and must not loop.
      if (label && label.textContent !== text) label.textContent = text;
    });
  }, [images, sourceSlot]);

  useEffect(labelChips, [labelChips]);

  const emit = useCallback(() => {
    if (el.current) onChange(readSegments(el.current));
  }, [onChange]);

  const saveRange = () => {
    const sel = window.getSelection();
    if (sel && sel.rangeCount > 0 && el.current?.contains(sel.getRangeAt(0).commonAncestorContainer)) lastRange.current = sel.getRangeAt(0).cloneRange();
  };

  useImperativeHandle(ref, () => ({
    insertImages(list) {
      const root = el.current;
      if (!root || list.length === 0) return;
      const range = lastRange.current && root.contains(lastRange.current.commonAncestorContainer) ? lastRange.current : null;
      const frag = document.createDocumentFragment();
      // Keep a space between the text before the caret and the first chip.
      const before = range ? charBefore(range) : (root.textContent ?? '').slice(-1);
      if (before && !/\s/.test(before)) frag.append(document.createTextNode(' '));
      let tail: Node | null = null;
      for (const image of list) {
        frag.append(makeChip(image));
        tail = document.createTextNode(' ');
        frag.append(tail);
      }
      if (range) {
        range.deleteContents();
        range.insertNode(frag);
      } else {
        root.append(frag);
      }
      if (tail) {
        const after = document.createRange();
        after.setStartAfter(tail);
        after.collapse(true);
        lastRange.current = after;
        if (document.activeElement === root) {
          const sel = window.getSelection();
          sel?.removeAllRanges();
          sel?.addRange(after);
        }
      }
      emit();
    },
    setSegments(segments, known) {
      const root = el.current;
      if (!root) return;
      root.replaceChildren(
        ...segments.flatMap((s): Node[] => {
          if (s.kind === 'text') return [document.createTextNode(s.text)];
          const image = known[s.id];
          return image ? [makeChip(image)] : [];
        }),
      );
      lastRange.current = null;
      emit();
    },
    focus() {
      el.current?.focus();
    },
  }));

  // Chips are created imperatively: label them after every content change too.
  useEffect(() => {
    const root = el.current;
    if (!root) return;
    const observer = new MutationObserver(labelChips);
    observer.observe(root, { childList: true, subtree: true });
    return () => observer.disconnect();
  }, [labelChips]);

  return (
    <div
      id={id}
      ref={el}
      className="editor"
      contentEditable
      suppressContentEditableWarning
      role="textbox"
      aria-multiline="false"
      aria-labelledby={labelledBy}
      aria-describedby={describedBy}
      spellCheck
      data-testid="instruction"
      onInput={emit}
      onKeyUp={saveRange}
      onMouseUp={saveRange}
      onBlur={saveRange}
      onKeyDown={(e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          onSubmit();
        }
      }}
      onPaste={(e) => {
        e.preventDefault();
        const files = imageFiles(e.clipboardData);
        saveRange();
        if (files.length > 0) {
          onFiles(files);
          return;
        }
        // Plain text only: pasted HTML would bring foreign markup into the instruction.
        const text = e.clipboardData.getData('text/plain').replace(/\s+/g, ' ');
        document.execCommand('insertText', false, text);
      }}
      onDragOver={(e) => {
        if (carriesFiles(e.dataTransfer)) e.preventDefault();
      }}
      onDrop={(e) => {
        const files = imageFiles(e.dataTransfer);
        if (files.length === 0) return;
        e.preventDefault();
        e.stopPropagation();
        const at = document.caretRangeFromPoint?.(e.clientX, e.clientY) ?? null;
        if (at) lastRange.current = at;
        onFiles(files);
      }}
    />
  );
});
