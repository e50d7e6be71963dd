import { useEffect, useState } from 'react';
import { api, type KpiComment } from './api';

const MAX_CHARS = 2_000;

/** Comments on a KPI; text is rendered as text (React escapes it), never as HTML. */
export function Comments({ id }: { id: string }) {
  const [comments, setComments] = useState<readonly KpiComment[]>([]);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    api<{ comments: KpiComment[] }>(`/v1/kpis/${id}/comments`)
      .then((body) => setComments(body.comments))
      .catch((e: Error) => setError(e.message));
  useEffect(() => {
    void load();
  }, [id]);
  return (
    <section className="panel mb-6 p-4" aria-labelledby="comments-title">
      <h2 id="comments-title" className="mb-2 text-lg font-semibold">
        Comments
      </h2>
      <form
        className="mb-4"
        onSubmit={(event) => {
          event.preventDefault();
          api(`/v1/kpis/${id}/comments`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ body: text }),
          })
            .then(() => {
              setText('');
              setError(null);
              return load();
            })
            .catch((e: Error) => setError(e.message));
        }}
      >
        <label htmlFor="comment-text" className="mb-1 block">
          Add a comment ({text.length} / {MAX_CHARS})
        </label>
        <textarea
          id="comment-text"
          className="input mb-2 w-full"
          rows={3}
          maxLength={MAX_CHARS}
          value={text}
          onChange={(event) => setText(event.target.value)}
          required
        />
        {error && (
          <p role="alert" className="error mb-2">
            {error}
          </p>
        )}
        <button type="submit" className="button button-primary">
          Post comment
        </button>
      </form>
      <ul className="comments" data-testid="comments">
        {comments.map((c) => (
          <li key={c.id} className="comment">
            <p className="muted text-sm">
              {c.author} · {new Date(c.created_at).toLocaleString('en-GB')}
            </p>
            <p className="comment-body">{c.body}</p>
          </li>
        ))}
      </ul>
    </section>
  );
}
