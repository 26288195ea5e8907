export { severityText } from './format.js';
export { Summarizer } from './summarize.js';
export type { SummaryResult } from './summarize.js';
