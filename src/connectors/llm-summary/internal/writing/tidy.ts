/** Longest summary published (a model that runs on is cut at a sentence end before this). */
export const MAX_SUMMARY_CHARS = 2000;

/**
 * What a model wrote, made fit to publish: trimmed, wrapping quotes and a leading "Summary:"
 * removed, a sentence or line the model repeated right after itself (small models stutter) kept
 * once, and cut to size at a sentence end. The original is kept separately as training data.
 */
export function tidyCompletion(text: string): string {
  let s = text.trim().replace(/^(?:summary|answer)\s*:\s*/i, '');
  if (/^["'“].*["'”]$/s.test(s)) s = s.slice(1, -1).trim();
  // Sentences with what follows them (spaces, line ends): joined again, they are the text.
  // A full stop inside a word or number ("0.1%", "v1.2") does not end a sentence.
  const sentences = s.match(/(?:[^.!?\n]|[.!?]+(?=[^\s.!?]))+[.!?]*\s*|\n+|[.!?]+\s*/g) ?? [];
  const kept: string[] = [];
  for (const sentence of sentences) {
    const norm = sentence.trim().toLowerCase();
    if (norm !== '' && kept.length > 0 && kept[kept.length - 1]!.trim().toLowerCase() === norm) {
      continue;
    }
    kept.push(sentence);
  }
  s = kept
    .join('')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  if (s.length <= MAX_SUMMARY_CHARS) return s;
  const cut = s.slice(0, MAX_SUMMARY_CHARS);
  const end = Math.max(cut.lastIndexOf('. '), cut.lastIndexOf('.\n'));
  return end > MAX_SUMMARY_CHARS / 2
    ? cut.slice(0, end + 1)
    : `${cut.slice(0, MAX_SUMMARY_CHARS - 3)}...`;
}
