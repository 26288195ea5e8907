/**
 * Secrets and personal data masked in a text that leaves the process (a prompt, a webhook, a
 * summary, an attribute hourglass writes): tokens, keys, e-mail addresses, card numbers, phone
 * numbers, IP addresses and long opaque strings. Shared by the `llm_summary` exporter's redaction
 * (`mask_values`) and the anomaly processor's `anomaly.errors.type`.
 */
interface Mask {
  readonly pattern: RegExp;
  readonly replace: string | ((match: string) => string);
}

const MASKS: readonly Mask[] = [
  // JSON Web Tokens, before anything else takes a part of them.
  { pattern: /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g, replace: '[jwt]' },
  { pattern: /\b(bearer|basic|digest|token)(\s+)[\w.~+/=-]{6,}/gi, replace: '$1$2[redacted]' },
  {
    pattern:
      /\b(access_token|refresh_token|id_token|token|api[_-]?key|key|secret|password|passwd|pwd|auth|sig|signature|session(?:_?id)?|code)=[^&\s#;,"']+/gi,
    replace: '$1=[redacted]',
  },
  {
    pattern:
      /\b(?:sk-[\w-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[\w-]{10,}|AIza[\w-]{35})/g,
    replace: '[secret]',
  },
  { pattern: /[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}/g, replace: '[email]' },
  { pattern: /\b\d(?:[ -]?\d){12,18}\b/g, replace: (m) => (luhn(m) ? '[card]' : m) },
  { pattern: /\+\d[\d ().-]{7,}\d/g, replace: '[phone]' },
  { pattern: /\b(?:\d{1,3}\.){3}\d{1,3}\b/g, replace: '[ip]' },
  {
    pattern:
      /\b(?:[0-9a-f]{1,4}:){4,7}[0-9a-f]{1,4}\b|(?:\b[0-9a-f]{1,4}:)+:(?:[0-9a-f]{1,4}\b:?)*/gi,
    replace: '[ip]',
  },
  // Long opaque strings: keys, hashes, signed URLs.
  { pattern: /\b[0-9a-f]{32,}\b/gi, replace: '[redacted]' },
  { pattern: /[A-Za-z0-9+_-]{40,}={0,2}/g, replace: '[redacted]' },
];

/** `text` with every mask applied. */
export function maskSecrets(text: string): string {
  let s = text;
  for (const m of MASKS) {
    s =
      typeof m.replace === 'string'
        ? s.replace(m.pattern, m.replace)
        : s.replace(m.pattern, m.replace);
  }
  return s;
}

/** The Luhn check every payment card number passes (and most other digit runs fail). */
function luhn(text: string): boolean {
  const digits = text.replace(/\D/g, '');
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
