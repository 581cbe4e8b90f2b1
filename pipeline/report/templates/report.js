/* sinergi report: the page's one script, inline, no library, nothing fetched.
   Screen only (print needs none of it): wide tables hold their label columns and show a cue,
   figures open full size, the interactive network. The page reads completely without it. */
(function () {
  'use strict';

  /* ---- wide tables ------------------------------------------------------------------------- */
  function clearHeld(fig) {
    Array.prototype.forEach.call(fig.querySelectorAll('.held'), function (c) {
      c.classList.remove('held');
      c.style.left = '';
    });
  }

  /* The label columns (before the first number) stay in view while the numbers scroll, as many
     as fit in 45% of the table's width; on a phone the one row-label cell does this instead. */
  function holdLabels(fig, wrap) {
    clearHeld(fig);
    var k = +fig.getAttribute('data-labels') || 0;
    var rowhead = fig.querySelector('th.rowhead');
    if (k < 2 || (rowhead && rowhead.offsetWidth > 0)) return;
    var heads = fig.querySelectorAll('thead th.lab');
    var widths = [], total = 0;
    for (var i = 0; i < heads.length; i++) {
      var w = heads[i].getBoundingClientRect().width;
      if (total + w > 0.45 * wrap.clientWidth) break;
      widths.push(total);
      total += w;
    }
    if (widths.length < 2) return;
    Array.prototype.forEach.call(fig.querySelectorAll('tr'), function (tr) {
      var labs = tr.querySelectorAll('.lab');
      for (var j = 0; j < widths.length && j < labs.length; j++) {
        labs[j].classList.add('held');
        labs[j].style.left = widths[j] + 'px';
      }
    });
  }

  function updateTable(fig) {
    var wrap = fig.querySelector('.table-wrap');
    if (!wrap) return;
    var over = wrap.scrollWidth > wrap.clientWidth + 1;
    fig.classList.toggle('scrolls', over);
    fig.classList.toggle('at-end', !over || wrap.scrollLeft + wrap.clientWidth >= wrap.scrollWidth - 2);
    if (over) holdLabels(fig, wrap); else clearHeld(fig);
  }

  function tables() {
    var figs = document.querySelectorAll('figure.table');
    Array.prototype.forEach.call(figs, function (fig) {
      var wrap = fig.querySelector('.table-wrap');
      if (wrap) {
        wrap.addEventListener('scroll', function () {
          fig.classList.toggle('at-end', wrap.scrollLeft + wrap.clientWidth >= wrap.scrollWidth - 2);
        }, {passive: true});
      }
      updateTable(fig);
    });
    var timer = null;
    window.addEventListener('resize', function () {
      clearTimeout(timer);
      timer = setTimeout(function () { Array.prototype.forEach.call(figs, updateTable); }, 120);
    });
  }

  /* ---- figures at full size ---------------------------------------------------------------- */
  function openBox(img) {
    var box = document.createElement('div');
    box.className = 'lightbox';
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-modal', 'true');
    box.setAttribute('aria-label', img.alt);
    var big = document.createElement('img');
    big.src = img.src;
    big.alt = img.alt;
    big.width = img.naturalWidth;
    big.height = img.naturalHeight;
    var close = document.createElement('button');
    close.type = 'button';
    close.textContent = '\u2715 ' + (document.body.getAttribute('data-close') || '');
    function done() {
      document.removeEventListener('keydown', key);
      box.parentNode.removeChild(box);
    }
    function key(e) { if (e.key === 'Escape') done(); }
    close.addEventListener('click', done);
    box.addEventListener('click', function (e) { if (e.target === box) done(); });
    document.addEventListener('keydown', key);
    box.appendChild(close);
    box.appendChild(big);
    document.body.appendChild(box);
    close.focus();
  }

  function figures() {
    document.addEventListener('click', function (e) {
      var a = e.target.closest ? e.target.closest('a.zoom, a.zoom-link') : null;
      var img = a && a.closest('figure') ? a.closest('figure').querySelector('img') : null;
      if (!img) return;
      e.preventDefault();
      openBox(img);
    });
  }

  /* ---- the interactive network ------------------------------------------------------------- */
  var SVG = 'http://www.w3.org/2000/svg';

  function el(name, attrs, ns) {
    var e = ns ? document.createElementNS(SVG, name) : document.createElement(name);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }

  function control(label, input) {
    var l = el('label');
    l.appendChild(document.createTextNode(label + ' '));
    l.appendChild(input);
    return l;
  }

  function choice(items, value) {
    var s = el('select');
    items.forEach(function (it) {
      var o = el('option', {value: it.id});
      o.textContent = it.label;
      s.appendChild(o);
    });
    s.value = value;
    return s;
  }

  function Netview(root, data) {
    this.root = root;
    this.data = data;
    this.stage = root.querySelector('.nv-stage');
    this.build();
    this.draw();
  }

  Netview.prototype.build = function () {
    var d = this.data, T = d.text, self = this;
    var ctl = el('div', {'class': 'nv-controls'});
    this.wave = choice(d.waves, d.waves[d.waves.length - 1].id);
    this.tie = choice(d.ties, 'any');
    this.cross = el('input', {type: 'checkbox'});
    ctl.appendChild(control(T.wave, this.wave));
    ctl.appendChild(control(T.tie, this.tie));
    var cl = el('label');
    cl.appendChild(this.cross);
    cl.appendChild(document.createTextNode(' ' + T.cross));
    ctl.appendChild(cl);
    [['+', T.zoom_in, 1.5], ['\u2212', T.zoom_out, 1 / 1.5], ['\u21ba', T.reset, 0]].forEach(function (b) {
      var btn = el('button', {type: 'button', title: b[1], 'aria-label': b[1]});
      btn.textContent = b[0];
      btn.addEventListener('click', function () { if (b[2]) self.zoomCentre(b[2]); else self.reset(); });
      ctl.appendChild(btn);
    });
    [this.wave, this.tie, this.cross].forEach(function (c) {
      c.addEventListener('change', function () { self.draw(); });
    });
    this.root.insertBefore(ctl, this.stage);
    this.svg = el('svg', {'class': 'nv-svg', tabindex: '0', role: 'img', 'aria-label': T.label}, true);
    this.edges = el('g', {}, true);
    this.nodes = el('g', {}, true);
    this.svg.appendChild(this.edges);
    this.svg.appendChild(this.nodes);
    this.tip = el('div', {'class': 'nv-tip', role: 'status'});
    this.stage.appendChild(this.svg);
    this.stage.appendChild(this.tip);
    this.frame();
    this.circles();
    this.legend();
    this.interact();
  };

  Netview.prototype.frame = function () {
    var xs = this.data.nodes.map(function (n) { return n.x; });
    var ys = this.data.nodes.map(function (n) { return -n.y; });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    var y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    var pad = 0.06 * Math.max(x1 - x0, y1 - y0, 0.5);
    this.home = {x: x0 - pad, y: y0 - pad, w: x1 - x0 + 2 * pad, h: y1 - y0 + 2 * pad};
    this.radius = Math.max(this.home.w, this.home.h) / 130;
    this.svg.style.aspectRatio = this.home.w + ' / ' + this.home.h;
    this.reset();
  };

  Netview.prototype.reset = function () {
    this.view = {x: this.home.x, y: this.home.y, w: this.home.w, h: this.home.h};
    this.apply();
  };

  Netview.prototype.apply = function () {
    var v = this.view;
    this.svg.setAttribute('viewBox', [v.x, v.y, v.w, v.h].join(' '));
  };

  Netview.prototype.circles = function () {
    var d = this.data, self = this;
    this.dots = d.nodes.map(function (n, i) {
      var c = el('circle', {cx: n.x, cy: -n.y, r: self.radius, fill: d.groups[n.group].color,
                            'data-i': i}, true);
      self.nodes.appendChild(c);
      return c;
    });
  };

  Netview.prototype.draw = function () {
    var d = this.data, w = this.wave.value, key = w + '|' + this.tie.value;
    var pairs = d.edges[key] || [], only = this.cross.checked, frag = document.createDocumentFragment();
    this.edges.textContent = '';
    for (var i = 0; i < pairs.length; i += 2) {
      var a = d.nodes[pairs[i]], b = d.nodes[pairs[i + 1]], x = a.group !== b.group;
      if (only && !x) continue;
      frag.appendChild(el('line', {x1: a.x, y1: -a.y, x2: b.x, y2: -b.y, 'class': x ? 'x' : '',
                                   'data-a': pairs[i], 'data-b': pairs[i + 1]}, true));
    }
    this.edges.appendChild(frag);
    var here = {};
    (d.present[w] || []).forEach(function (j) { here[j] = true; });
    this.dots.forEach(function (c, j) { c.setAttribute('class', here[j] ? '' : 'absent'); });
  };

  Netview.prototype.legend = function () {
    var d = this.data, ul = el('ul', {'class': 'nv-legend'});
    d.groups.forEach(function (g) {
      var li = el('li'), s = el('span', {style: 'background:' + g.color});
      li.appendChild(s);
      li.appendChild(document.createTextNode(g.label));
      ul.appendChild(li);
    });
    var li = el('li'), s = el('span', {'class': 'tie', style: 'background:#B3245C'});
    li.appendChild(s);
    li.appendChild(document.createTextNode(d.text.bridge));
    ul.appendChild(li);
    this.root.appendChild(ul);
  };

  Netview.prototype.show = function (i, ev) {
    var d = this.data, n = d.nodes[i], key = this.wave.value + '|' + this.tie.value;
    var deg = (d.degree[key] || [])[i];
    var here = (d.present[this.wave.value] || []).indexOf(i) >= 0;
    var parts = [n.id, d.groups[n.group].label];
    if (d.sites) parts.push(n.site);
    parts.push(here ? d.text.degree + ' ' + (deg === null || deg === undefined ? '\u2013' : deg) : d.text.absent);
    this.tip.textContent = parts.join(' \u00b7 ');
    var r = this.stage.getBoundingClientRect();
    this.tip.style.display = 'block';
    this.tip.style.left = Math.min(ev.clientX - r.left + 12, r.width - this.tip.offsetWidth - 4) + 'px';
    this.tip.style.top = (ev.clientY - r.top + 14) + 'px';
    this.dots[i].classList.add('hl');
    Array.prototype.forEach.call(this.edges.childNodes, function (l) {
      if (+l.getAttribute('data-a') === i || +l.getAttribute('data-b') === i) l.classList.add('hl');
    });
  };

  Netview.prototype.hide = function () {
    this.tip.style.display = 'none';
    Array.prototype.forEach.call(this.svg.querySelectorAll('.hl'), function (e) { e.classList.remove('hl'); });
  };

  /* A point of the screen in the drawing's coordinates. */
  Netview.prototype.point = function (cx, cy) {
    var m = this.svg.getScreenCTM(), p = this.svg.createSVGPoint();
    p.x = cx;
    p.y = cy;
    return p.matrixTransform(m.inverse());
  };

  Netview.prototype.zoomAt = function (cx, cy, f) {
    var p = this.point(cx, cy), v = this.view;
    var w = Math.min(Math.max(v.w / f, this.home.w / 40), this.home.w * 3);
    var k = v.w / w;
    this.view = {x: p.x - (p.x - v.x) / k, y: p.y - (p.y - v.y) / k, w: w, h: v.h / k};
    this.apply();
  };

  Netview.prototype.zoomCentre = function (f) {
    var r = this.svg.getBoundingClientRect();
    this.zoomAt(r.left + r.width / 2, r.top + r.height / 2, f);
  };

  Netview.prototype.pan = function (dx, dy) {
    var a = this.point(0, 0), b = this.point(dx, dy);
    this.view.x -= b.x - a.x;
    this.view.y -= b.y - a.y;
    this.apply();
  };

  Netview.prototype.interact = function () {
    var self = this, svg = this.svg, down = {}, pinch = 0;
    svg.addEventListener('pointerover', function (e) {
      var i = e.target.getAttribute && e.target.getAttribute('data-i');
      if (i !== null && i !== undefined && e.target.tagName === 'circle') self.show(+i, e);
    });
    svg.addEventListener('pointerout', function (e) { if (e.target.tagName === 'circle') self.hide(); });
    svg.addEventListener('wheel', function (e) {
      e.preventDefault();
      self.zoomAt(e.clientX, e.clientY, Math.exp(-e.deltaY * 0.0015));
    }, {passive: false});
    svg.addEventListener('pointerdown', function (e) {
      down[e.pointerId] = {x: e.clientX, y: e.clientY};
      if (e.target.tagName !== 'circle') {
        try { svg.setPointerCapture(e.pointerId); } catch (err) { /* a pointer the browser no longer tracks */ }
      }
    });
    svg.addEventListener('pointermove', function (e) {
      var prev = down[e.pointerId];
      if (!prev) return;
      var ids = Object.keys(down);
      if (ids.length === 2) {
        var o = down[ids[0] == e.pointerId ? ids[1] : ids[0]];
        var dist = Math.hypot(e.clientX - o.x, e.clientY - o.y);
        if (pinch) self.zoomAt((e.clientX + o.x) / 2, (e.clientY + o.y) / 2, dist / pinch);
        pinch = dist;
      } else {
        self.pan(e.clientX - prev.x, e.clientY - prev.y);
      }
      down[e.pointerId] = {x: e.clientX, y: e.clientY};
    });
    function up(e) { delete down[e.pointerId]; pinch = 0; }
    svg.addEventListener('pointerup', up);
    svg.addEventListener('pointercancel', up);
    svg.addEventListener('keydown', function (e) {
      var step = 40, keys = {'+': [1.5], '=': [1.5], '-': [1 / 1.5], ArrowLeft: [0, step, 0],
                             ArrowRight: [0, -step, 0], ArrowUp: [0, 0, step], ArrowDown: [0, 0, -step]};
      if (e.key === '0') { self.reset(); e.preventDefault(); return; }
      var k = keys[e.key];
      if (!k) return;
      e.preventDefault();
      if (k[0]) self.zoomCentre(k[0]); else self.pan(k[1], k[2]);
    });
  };

  function networks() {
    var root = document.getElementById('netview');
    var src = document.getElementById('netview-data');
    if (!root || !src) return;
    var data = JSON.parse(src.textContent);
    if (data && data.nodes && data.nodes.length) root.netview = new Netview(root, data);
  }

  function start() {
    tables();
    figures();
    networks();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
}());
