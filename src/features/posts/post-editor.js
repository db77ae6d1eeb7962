// The post editor without JavaScript lists recent uploads with a Markdown line to
// copy. With JavaScript, each gets an "Insert" button that puts the line into the
// body at the cursor, on a line of its own.
(() => {
  const body = document.getElementById('body');
  if (!body) return;
  for (const input of document.querySelectorAll('input.snippet[data-markdown]')) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'link';
    button.textContent = 'Insert';
    button.setAttribute('aria-label', `Insert ${input.getAttribute('aria-label')?.replace(/^Markdown for /, '') ?? 'image'} into the body`);
    button.addEventListener('click', () => {
      const md = input.dataset.markdown;
      const start = body.selectionStart ?? body.value.length;
      const end = body.selectionEnd ?? start;
      const before = body.value.slice(0, start);
      const after = body.value.slice(end);
      const lead = before && !before.endsWith('\n\n') ? (before.endsWith('\n') ? '\n' : '\n\n') : '';
      const trail = after.startsWith('\n') ? '\n' : '\n\n';
      body.value = before + lead + md + trail + after;
      const caret = (before + lead + md).length;
      body.focus();
      body.setSelectionRange(caret, caret);
    });
    input.closest('li')?.append(button);
  }
})();
