/**
 * HTML that escapes by default: every value interpolated into a `markup` template is escaped
 * (& < > " ' become entities), unless it is itself Html (built by `markup`), so that a module path,
 * a search query or a go.sum line (all attacker-controlled) can never become markup, in element
 * text and in quoted attribute values alike. Arrays are joined; null, undefined and false render
 * nothing. (Not named `html`: Prettier would reformat such templates as HTML, whitespace included.)
 */

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

function render(v: unknown): string {
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === null || v === undefined || v === false) return '';
  return escapeHtml(String(v));
}

export function markup(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}
