/**
 * The HTML frame of every page Tailor serves. Pages are plain strings built here, with every
 * interpolated value escaped; scripts and styles are same-origin files (no inline code, so the
 * Content-Security-Policy can forbid it).
 */

/** Escapes text for HTML content and quoted attribute values. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** A trusted HTML fragment, already escaped. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Tagged template: interpolations are escaped unless they are Html (or arrays of Html). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

function render(v: unknown): string {
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === null || v === undefined || v === false) return '';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return esc(String(v));
  throw new TypeError('html``: interpolate strings, numbers or Html only');
}

export interface FrameOptions {
  title: string;
  body: Html;
  /** The page's CSRF token, for scripts (meta tag). */
  csrf?: string;
  /** Same-origin module scripts to load. */
  scripts?: string[];
  /** data-* attributes on <body>, e.g. { page: 'outputs' }. */
  data?: Record<string, string>;
  bodyClass?: string;
}

export function frame(o: FrameOptions): string {
  const data = Object.entries(o.data ?? {})
    .map(([k, v]) => ` data-${k.replace(/[^a-z0-9-]/g, '')}="${esc(v)}"`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${o.csrf === undefined ? '' : `<meta name="csrf-token" content="${esc(o.csrf)}">\n`}<title>${esc(o.title)} · Tailor</title>
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/style.css">
<link rel="stylesheet" href="/assets/status.css">
${(o.scripts ?? []).map((s) => `<script type="module" src="${esc(s)}"></script>`).join('\n')}
</head>
<body${o.bodyClass ? ` class="${esc(o.bodyClass)}"` : ''}${data}>
${o.body.value}
</body>
</html>
`;
}
