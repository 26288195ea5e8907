export { publish } from './publish.js';
export type { PublishTargets } from './publish.js';
export { summaryLinks } from './summary-links.js';
export type { SummaryLinks } from './summary-links.js';
export { Webhook } from './webhook.js';
