/**
 * `-o`, the same names in every command: `text` (the human output; `table` is its alias), or a
 * document on stdout, `json` or `yaml` (the same content as the JSON, key for key). scan adds
 * its CI formats (sarif, junit, markdown).
 */
import { Option } from 'commander';

export const OUTPUT_FORMATS = ['text', 'table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The -o option of a command whose output is a text report or a JSON/YAML document. */
export function outputOption(description: string): Option {
  return new Option('-o, --output <format>', `${description}; table is an alias of text, yaml the json document in YAML`).choices([...OUTPUT_FORMATS]).default('text');
}

/** What -o asks for: the text report, or the document in JSON or YAML. */
export function documentFormat(output: OutputFormat | undefined): 'text' | 'json' | 'yaml' {
  return output === 'json' || output === 'yaml' ? output : 'text';
}

/** A JSON document (as podid renders it) in the format asked for: unchanged for json, YAML for yaml. */
export async function inFormat(format: 'json' | 'yaml', json: string): Promise<string> {
  if (format === 'json') return json;
  const { jsonAsYaml } = await import('../render/yaml.js');
  return jsonAsYaml(json);
}
