import type { Kind } from '../component/component.js';
import type { ComponentConfig } from './config.js';

/** The component sections of a config, and the kind of component each holds. */
export const SECTIONS = [
  'receivers',
  'processors',
  'exporters',
  'connectors',
  'extensions',
] as const;
export type Section = (typeof SECTIONS)[number];
export const KIND_OF: Record<Section, Kind> = {
  receivers: 'receiver',
  processors: 'processor',
  exporters: 'exporter',
  connectors: 'connector',
  extensions: 'extension',
};

/** The valid components of each section, by id. */
export type Sections = Record<Section, Map<string, ComponentConfig>>;
