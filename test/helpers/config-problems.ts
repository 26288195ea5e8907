import { ConfigError } from '../../src/component/errors.js';
import { builtinFactories } from '../../src/components.js';
import { loadConfigText } from '../../src/config/load.js';
import { staticResolver } from '../../src/config/validate.js';

/** Every problem the built-in factories find in a config text; [] when it is valid. */
export async function configProblems(yaml: string): Promise<string[]> {
  try {
    await loadConfigText(yaml, 'test.yaml', staticResolver(builtinFactories()), {});
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}
