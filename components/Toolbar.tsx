'use client';

/** Formatting toolbar: every button has an accessible label, shows its shortcut and whether it is active. */
import { useEditorState, type Editor } from '@tiptap/react';

interface ToolbarButton {
  readonly label: string;
  readonly shortcut: string;
  readonly icon: string;
  readonly isActive: (editor: Editor) => boolean;
  readonly run: (editor: Editor) => void;
}

const BUTTONS: readonly (ToolbarButton | 'separator')[] = [
  { label: 'Bold', shortcut: 'Mod+B', icon: 'B', isActive: (e) => e.isActive('bold'), run: (e) => e.chain().focus().toggleBold().run() },
  { label: 'Italic', shortcut: 'Mod+I', icon: 'I', isActive: (e) => e.isActive('italic'), run: (e) => e.chain().focus().toggleItalic().run() },
  { label: 'Strikethrough', shortcut: 'Mod+Shift+S', icon: 'S', isActive: (e) => e.isActive('strike'), run: (e) => e.chain().focus().toggleStrike().run() },
  { label: 'Inline code', shortcut: 'Mod+E', icon: '</>', isActive: (e) => e.isActive('code'), run: (e) => e.chain().focus().toggleCode().run() },
  {
    label: 'Link',
    shortcut: '',
    icon: 'Link',
    isActive: (e) => e.isActive('link'),
    run: (e) => {
      if (e.isActive('link')) {
        e.chain().focus().extendMarkRange('link').unsetLink().run();
        return;
      }
      const href = window.prompt('Link address');
      if (href) e.chain().focus().extendMarkRange('link').setLink({ href }).run();
    },
  },
  'separator',
  { label: 'Heading 1', shortcut: 'Mod+Alt+1', icon: 'H1', isActive: (e) => e.isActive('heading', { level: 1 }), run: (e) => e.chain().focus().toggleHeading({ level: 1 }).run() },
  { label: 'Heading 2', shortcut: 'Mod+Alt+2', icon: 'H2', isActive: (e) => e.isActive('heading', { level: 2 }), run: (e) => e.chain().focus().toggleHeading({ level: 2 }).run() },
  { label: 'Heading 3', shortcut: 'Mod+Alt+3', icon: 'H3', isActive: (e) => e.isActive('heading', { level: 3 }), run: (e) => e.chain().focus().toggleHeading({ level: 3 }).run() },
  'separator',
  { label: 'Bullet list', shortcut: 'Mod+Shift+8', icon: '•', isActive: (e) => e.isActive('bulletList'), run: (e) => e.chain().focus().toggleBulletList().run() },
  { label: 'Numbered list', shortcut: 'Mod+Shift+7', icon: '1.', isActive: (e) => e.isActive('orderedList'), run: (e) => e.chain().focus().toggleOrderedList().run() },
  { label: 'Task list', shortcut: 'Mod+Shift+9', icon: '☑', isActive: (e) => e.isActive('taskList'), run: (e) => e.chain().focus().toggleTaskList().run() },
  { label: 'Quote', shortcut: 'Mod+Shift+B', icon: '❝', isActive: (e) => e.isActive('blockquote'), run: (e) => e.chain().focus().toggleBlockquote().run() },
  { label: 'Code block', shortcut: 'Mod+Alt+C', icon: '{ }', isActive: (e) => e.isActive('codeBlock'), run: (e) => e.chain().focus().toggleCodeBlock().run() },
  { label: 'Horizontal rule', shortcut: '', icon: '―', isActive: () => false, run: (e) => e.chain().focus().setHorizontalRule().run() },
  'separator',
  { label: 'Undo', shortcut: 'Mod+Z', icon: '↶', isActive: () => false, run: (e) => e.chain().focus().undo().run() },
  { label: 'Redo', shortcut: 'Mod+Shift+Z', icon: '↷', isActive: () => false, run: (e) => e.chain().focus().redo().run() },
];

function describeShortcut(shortcut: string): string {
  const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);
  return shortcut.replace('Mod', isMac ? '⌘' : 'Ctrl');
}

export function Toolbar({ editor }: { editor: Editor | null }) {
  // Re-render on selection and content changes so active states stay right.
  const active = useEditorState({
    editor,
    selector: ({ editor: current }) =>
      current ? BUTTONS.map((button) => (button === 'separator' ? false : button.isActive(current))) : [],
  });
  return (
    <div className="toolbar" role="toolbar" aria-label="Formatting">
      {BUTTONS.map((button, index) =>
        button === 'separator' ? (
          <span key={`separator-${index}`} className="toolbar-separator" aria-hidden="true" />
        ) : (
          <button
            key={button.label}
            type="button"
            className="toolbar-button"
            aria-label={button.label}
            aria-pressed={active?.[index] ?? false}
            aria-keyshortcuts={button.shortcut ? button.shortcut.replace('Mod', 'Control') : undefined}
            title={button.shortcut ? `${button.label} (${describeShortcut(button.shortcut)})` : button.label}
            disabled={!editor}
            onMouseDown={(event) => event.preventDefault()}
            onClick={() => editor && button.run(editor)}
          >
            {button.icon}
          </button>
        ),
      )}
    </div>
  );
}
