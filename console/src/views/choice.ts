import { html } from '../html.js';

/** A labelled select: `options` are values, or [value, text]; `all` is the empty choice's text. */
export function Choice({
  id,
  label,
  value,
  all,
  options,
  disabled,
  onChange,
}: {
  id: string;
  label: string;
  value: string;
  all?: string;
  options: readonly (string | readonly [string, string])[];
  disabled?: boolean;
  onChange: (value: string) => void;
}) {
  return html`<label for=${id}>
    ${label}
    <select
      id=${id}
      value=${value}
      disabled=${disabled}
      onChange=${(e: Event) => onChange((e.currentTarget as HTMLSelectElement).value)}
    >
      ${all === undefined ? null : html`<option value="">${all}</option>`}
      ${options.map((o) => {
        const [v, text] = typeof o === 'string' ? [o, o] : o;
        return html`<option value=${v}>${text}</option>`;
      })}
    </select>
  </label>`;
}
