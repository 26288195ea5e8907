/** The kinds of component, as the config's sections name them (in the singular). */
export type Kind = 'receiver' | 'processor' | 'exporter' | 'connector' | 'extension';
