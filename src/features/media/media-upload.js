// Drag-and-drop and paste-to-upload, over the plain forms that work without it.
// In the post editor: an image dropped on or pasted into the body is uploaded and
// its Markdown put at the cursor. On /admin/media: images dropped anywhere on the
// page or pasted are uploaded, then the library is shown again with them.
// Uploads go to POST /api/v1/media with the page's CSRF token (same origin, cookie).
(() => {
  // This site's address: its own media URLs go into posts as paths, like the editor's list.
  const site = document.currentScript?.dataset.site ?? location.origin;
  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content');
  if (!csrf) return;

  const filesOf = (dataTransfer) => [...(dataTransfer?.files ?? [])];
  const hasFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes('Files');

  async function upload(file, alt) {
    const form = new FormData();
    if (alt) form.append('alt', alt);
    form.append('file', file, file.name || 'pasted-image');
    const res = await fetch('/api/v1/media', {
      method: 'POST',
      body: form,
      credentials: 'same-origin',
      headers: { accept: 'application/json', 'x-csrf-token': csrf },
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(`${file.name || 'The image'}: ${body.detail || body.title || `upload failed (${res.status})`}`);
    return body;
  }

  /** A live region after `anchor` that screen readers announce. */
  function statusLine(anchor) {
    const p = document.createElement('p');
    p.className = 'upload-status';
    p.setAttribute('role', 'status');
    anchor.after(p);
    return (message, error) => {
      p.textContent = message;
      p.className = error ? 'upload-status flash flash-error' : 'upload-status';
    };
  }

  /** Our own files by path, as the editor's list gives them; a MEDIA_PUBLIC_URL stays whole. */
  const pathOf = (url) => (url.startsWith(`${site}/media/`) ? url.slice(site.length) : url);

  function enhanceEditor(body) {
    const say = statusLine(body);
    async function insert(files) {
      for (const file of files) {
        // A placeholder at the cursor, replaced by the image's line once it is stored.
        const mark = `![Uploading ${file.name || 'image'}…]()`;
        const start = body.selectionStart ?? body.value.length;
        const end = body.selectionEnd ?? start;
        const before = body.value.slice(0, start);
        const after = body.value.slice(end);
        const lead = before && !before.endsWith('\n\n') ? (before.endsWith('\n') ? '\n' : '\n\n') : '';
        const trail = after.startsWith('\n') ? '\n' : '\n\n';
        body.value = before + lead + mark + trail + after;
        say(`Uploading ${file.name || 'the image'}…`);
        try {
          const m = await upload(file);
          const line = `![${(m.alt || '').replace(/[[\]\\]/g, '\\$&')}](${pathOf(m.url)})`;
          body.value = body.value.replace(mark, line);
          const caret = body.value.indexOf(line) + line.length;
          body.setSelectionRange(caret, caret);
          say(`Uploaded ${m.originalName}; its Markdown is in the body.`);
        } catch (e) {
          body.value = body.value.replace(mark + trail, '').replace(mark, '');
          say(e.message, true);
        }
      }
      body.dispatchEvent(new Event('input', { bubbles: true }));
    }
    body.addEventListener('dragover', (event) => {
      if (hasFiles(event)) event.preventDefault();
    });
    body.addEventListener('drop', (event) => {
      const files = filesOf(event.dataTransfer);
      if (!files.length) return;
      event.preventDefault();
      body.focus();
      insert(files);
    });
    body.addEventListener('paste', (event) => {
      const files = filesOf(event.clipboardData);
      if (!files.length) return;
      event.preventDefault();
      insert(files);
    });
  }

  function enhanceLibrary(form) {
    const say = statusLine(form);
    const hint = document.createElement('p');
    hint.className = 'hint';
    hint.textContent = 'You can also drop images anywhere on this page, or paste them.';
    form.before(hint);
    async function send(files) {
      const alt = form.querySelector('#alt')?.value ?? '';
      let done = 0;
      const errors = [];
      for (const file of files) {
        say(`Uploading ${file.name || 'image'} (${done + 1} of ${files.length})…`);
        try {
          await upload(file, alt);
          done++;
        } catch (e) {
          errors.push(e.message);
        }
      }
      if (errors.length) say(errors.join(' '), true);
      // The library, as the server lists it, with the new images.
      if (done) {
        if (errors.length) setTimeout(() => location.assign('/admin/media'), 4000);
        else location.assign('/admin/media');
      }
    }
    document.addEventListener('dragover', (event) => {
      if (hasFiles(event)) event.preventDefault();
    });
    document.addEventListener('drop', (event) => {
      const files = filesOf(event.dataTransfer);
      if (!files.length) return;
      event.preventDefault();
      send(files);
    });
    document.addEventListener('paste', (event) => {
      const files = filesOf(event.clipboardData);
      if (!files.length) return;
      event.preventDefault();
      send(files);
    });
  }

  const editor = [...document.querySelectorAll('form textarea#body')].find((t) => /^\/posts(\/[^/]+)?$/.test(t.form?.getAttribute('action') ?? ''));
  if (editor) enhanceEditor(editor);
  const library = document.querySelector('form[action="/admin/media"][enctype="multipart/form-data"]');
  if (library) enhanceLibrary(library);
})();
