// Live updates without a reload: new comments appear under the post being read,
// and the notifications badge counts up. Pages work the same without it.
(() => {
  'use strict';
  if (!window.EventSource) return;
  var section = document.getElementById('comments');
  var badge = document.getElementById('unread-badge');
  var postId = section?.getAttribute('data-post-id');
  if (!postId && !badge) return;

  var source = new EventSource(`/api/v1/events${postId ? `?post=${encodeURIComponent(postId)}` : ''}`);

  source.addEventListener('comment', (e) => {
    var data = JSON.parse(e.data);
    if (document.getElementById(`comment-${data.id}`)) return;
    var list = document.getElementById(data.containerId) || document.getElementById('comments-root');
    var template = document.createElement('template');
    template.innerHTML = data.html;
    var item = template.content.firstElementChild;
    if (!list || !item) return;
    item.classList.add('fresh');
    list.appendChild(item);
    var count = document.getElementById('comment-count');
    if (count && typeof data.count === 'number') count.textContent = `(${data.count})`;
  });

  source.addEventListener('notification', (e) => {
    var data = JSON.parse(e.data);
    if (!badge) return;
    badge.textContent = String(data.unreadCount);
    badge.setAttribute('aria-label', `${data.unreadCount} unread`);
    badge.hidden = data.unreadCount === 0;
  });
})();
