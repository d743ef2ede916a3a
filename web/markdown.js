// Markdown (post-mortems, notes) rendered with marked, safely: raw HTML in the text is shown as
// text, and links and images keep only http(s), mailto and in-page targets.
import { Marked } from 'marked';
import { html } from './ui.js';

const escape = (s) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const safeUrl = (u) => /^(https?:|mailto:|#|\/(?!\/))/i.test(String(u || '').trim());

const md = new Marked({
  gfm: true,
  renderer: {
    html({ text }) { return escape(text); },
    link({ href, text }) { return safeUrl(href) ? false : escape(text); },
    image({ href, text }) { return safeUrl(href) ? false : escape(text || ''); },
  },
});

export function renderMarkdown(text) {
  return md.parse(text || '');
}

export function Markdown({ text, testid }) {
  return html`<div class="markdown" data-testid=${testid} dangerouslySetInnerHTML=${{ __html: renderMarkdown(text) }}></div>`;
}
