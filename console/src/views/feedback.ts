import { useState } from 'preact/hooks';
import { ApiError, postJson } from '../api.js';
import type { FeedbackAnswer } from '../api-types.js';
import { time } from '../format.js';
import { html } from '../html.js';

const RATINGS = [
  [1, 'wrong'],
  [2, 'mostly wrong'],
  [3, 'partly right'],
  [4, 'mostly right'],
  [5, 'right'],
] as const;

type State =
  | { s: 'idle' }
  | { s: 'sending' }
  | { s: 'done'; answer: FeedbackAnswer }
  | { s: 'failed'; message: string };

/**
 * A summary with its rating (1 wrong .. 5 right) and an optional correction, sent to
 * `POST /api/v1/anomalies/{id}/feedback`: kept with the prompt as training data.
 */
export function SummaryFeedback({ anomalyId, summary }: { anomalyId: string; summary: string }) {
  const [rating, setRating] = useState<number | null>(null);
  const [correction, setCorrection] = useState('');
  const [state, setState] = useState<State>({ s: 'idle' });
  const name = `rating-${anomalyId}`;
  const submit = async (e: Event) => {
    e.preventDefault();
    if (rating === null) return;
    setState({ s: 'sending' });
    try {
      const answer = await postJson<FeedbackAnswer>(
        `/api/v1/anomalies/${encodeURIComponent(anomalyId)}/feedback`,
        { rating, correction: correction.trim() === '' ? null : correction },
      );
      setState({ s: 'done', answer });
    } catch (err) {
      setState({
        s: 'failed',
        message: err instanceof ApiError ? err.message : `not sent: ${String(err)}`,
      });
    }
  };
  return html`<div class="summary">
    <h3>Summary</h3>
    <blockquote class="summary-text">${summary}</blockquote>
    <form class="feedback" onSubmit=${submit}>
      <fieldset>
        <legend>How right is this summary?</legend>
        <div class="ratings">
          ${RATINGS.map(
            ([n, label]) =>
              html`<label class="rating">
                <input
                  type="radio"
                  name=${name}
                  value=${n}
                  checked=${rating === n}
                  onChange=${() => setRating(n)}
                />
                <span>${n} ${label}</span>
              </label>`,
          )}
        </div>
      </fieldset>
      <label class="correction">
        Correction (optional): the summary as it should have been
        <textarea
          rows="3"
          maxlength="16384"
          value=${correction}
          onInput=${(e: Event) => setCorrection((e.currentTarget as HTMLTextAreaElement).value)}
        ></textarea>
      </label>
      <button type="submit" disabled=${rating === null || state.s === 'sending'}>
        ${state.s === 'sending' ? 'Sending…' : 'Send rating'}
      </button>
      <p class="feedback-state" role="status">
        ${
          state.s === 'done'
            ? `Rated ${state.answer.rating} at ${time(state.answer.rated_at)}${state.answer.correction ? ', with a correction' : ''}: kept as training data.`
            : state.s === 'failed'
              ? html`<span class="error">${state.message}</span>`
              : ''
        }
      </p>
    </form>
  </div>`;
}
