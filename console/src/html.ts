import htm from 'htm';
import { h, type VNode } from 'preact';

/** Preact's `h` as tagged templates: views are written as HTML, with no compile step of their own. */
export const html = htm.bind(h) as (strings: TemplateStringsArray, ...values: unknown[]) => VNode;
