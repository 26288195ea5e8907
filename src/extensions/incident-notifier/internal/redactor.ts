import { maskSecrets } from '../../../telemetry/mask-secrets.js';

/**
 * Every text a notification carries (service and operation names, summaries) goes through this:
 * secrets and personal data masked as `llm_summary` masks them (`mask_values`), and cut.
 */
export class Redactor {
  constructor(private readonly mask: boolean) {}

  text(value: string, max = 200): string {
    let s = value.length > max * 4 ? value.slice(0, max * 4) : value;
    if (this.mask) s = maskSecrets(s);
    return s.length > max ? `${s.slice(0, max)}...` : s;
  }
}
