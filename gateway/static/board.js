/* The live stock board: a store's skus with title, price and availability, kept current over
   graphql-ws (stockChanged and priceChanged, snapshot first), reconnecting by itself. */
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var rows = new Map();
  var client = null;
  var stops = [];
  var keyInput = $('key');
  keyInput.value = localStorage.getItem('board.key') || '';

  function status(state, text) { $('status').dataset.state = state; $('status').textContent = text; }
  function message(text) { $('message').textContent = text || ''; }
  function money(price) { return price ? Number(price.amount).toFixed(2) + ' ' + price.currencyCode : '—'; }
  /* A menu item's modifier groups in one line: "Milk (1–1): Oat milk +0.40, Soy milk +0.30". */
  function modifiers(groups) {
    return (groups || []).map(function (g) {
      return g.name + ' (' + g.minSelections + '–' + g.maxSelections + '): ' + g.modifiers.map(function (m) {
        return m.name + (m.price ? ' +' + Number(m.price.amount).toFixed(2) : '');
      }).join(', ');
    }).join('; ');
  }

  async function graphql(query, variables) {
    var response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + keyInput.value.trim() },
      body: JSON.stringify({ query: query, variables: variables || {} }),
    });
    var body = await response.json();
    if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
    return body.data;
  }

  function render(sku, flash) {
    var row = rows.get(sku);
    var tr = document.querySelector('tr[data-sku="' + CSS.escape(sku) + '"]');
    if (!tr) {
      tr = document.createElement('tr');
      tr.dataset.sku = sku;
      tr.innerHTML = '<td class="sku"></td><td class="title"></td><td class="num price"></td><td class="modifiers"></td><td class="num available"></td><td class="num onhand"></td><td class="num version"></td>';
      var body = $('rows');
      if (body.dataset.empty !== 'no') { body.innerHTML = ''; body.dataset.empty = 'no'; }
      var after = Array.prototype.find.call(body.children, function (other) { return other.dataset.sku > sku; });
      body.insertBefore(tr, after || null);
    }
    tr.querySelector('.sku').textContent = sku;
    tr.querySelector('.title').textContent = row.title || '';
    tr.querySelector('.price').textContent = money(row.price);
    tr.querySelector('.modifiers').textContent = modifiers(row.modifierGroups);
    tr.querySelector('.available').textContent = row.available === undefined ? '—' : row.available;
    tr.querySelector('.onhand').textContent = row.onHand === undefined ? '—' : row.onHand;
    tr.querySelector('.version').textContent = row.version === undefined ? '' : row.version;
    tr.classList.toggle('out', row.available === 0);
    if (flash) { tr.classList.remove('changed'); void tr.offsetWidth; tr.classList.add('changed'); }
  }

  function update(sku, values, flash) {
    rows.set(sku, Object.assign(rows.get(sku) || {}, values));
    render(sku, flash);
  }

  function subscribe(storeId) {
    stops.forEach(function (stop) { stop(); });
    stops = [];
    rows.clear();
    $('rows').innerHTML = '<tr><td colspan="6" class="sku">Loading…</td></tr>';
    $('rows').dataset.empty = 'yes';
    if (client) client.dispose();
    status('connecting', 'connecting…');
    client = graphqlWs.createClient({
      url: location.origin.replace(/^http/, 'ws') + '/graphql',
      connectionParams: { authorization: 'Bearer ' + keyInput.value.trim() },
      retryAttempts: Infinity,
      shouldRetry: function () { return true; },
      retryWait: function (retries) { return new Promise(function (r) { setTimeout(r, Math.min(1000 * Math.pow(2, retries), 10000)); }); },
      on: {
        connecting: function () { status('connecting', 'connecting…'); },
        connected: function () { status('live', 'live'); message(''); },
        closed: function (event) { status('offline', 'offline — reconnecting'); if (event && event.code >= 4400) message('Disconnected: ' + (event.reason || event.code)); },
      },
    });
    var snapshotDone = false;
    setTimeout(function () { snapshotDone = true; }, 1500);
    stops.push(client.subscribe(
      { query: 'subscription ($store: ID!) { stockChanged(storeId: $store) { sku available onHand version variant { title price(storeId: $store) { amount currencyCode } product { modifierGroups { name minSelections maxSelections modifiers { sku name price(storeId: $store) { amount currencyCode } } } } } } }', variables: { store: storeId } },
      {
        next: function (result) {
          if (result.errors) return message(result.errors[0].message);
          var s = result.data.stockChanged;
          var known = rows.has(s.sku);
          update(s.sku, { available: s.available, onHand: s.onHand, version: s.version, title: s.variant && s.variant.title, price: s.variant && s.variant.price, modifierGroups: s.variant && s.variant.product && s.variant.product.modifierGroups }, snapshotDone || known);
        },
        error: function (error) { message(error.message || String(error)); },
        complete: function () {},
      }
    ));
    stops.push(client.subscribe(
      { query: 'subscription ($store: ID!) { priceChanged(storeId: $store, snapshot: false) { sku price { amount currencyCode } } }', variables: { store: storeId } },
      {
        next: function (result) { if (result.data) update(result.data.priceChanged.sku, { price: result.data.priceChanged.price }, true); },
        error: function (error) { message(error.message || String(error)); },
        complete: function () {},
      }
    ));
  }

  async function loadStores() {
    message('');
    localStorage.setItem('board.key', keyInput.value.trim());
    try {
      var data = await graphql('{ stores { id code name } }');
      var select = $('store');
      select.innerHTML = '<option value="">choose a store</option>' + data.stores.map(function (s) {
        var option = document.createElement('option');
        option.value = s.id;
        option.textContent = s.code + ' — ' + s.name;
        return option.outerHTML;
      }).join('');
      select.disabled = false;
      var remembered = localStorage.getItem('board.store');
      if (remembered && data.stores.some(function (s) { return s.id === remembered; })) { select.value = remembered; subscribe(remembered); }
    } catch (error) {
      message(error.message);
    }
  }

  $('connect').addEventListener('click', loadStores);
  keyInput.addEventListener('keydown', function (event) { if (event.key === 'Enter') loadStores(); });
  $('store').addEventListener('change', function (event) {
    if (!event.target.value) return;
    localStorage.setItem('board.store', event.target.value);
    subscribe(event.target.value);
  });
  var params = new URLSearchParams(location.search);
  if (keyInput.value) loadStores().then(function () {
    if (params.get('store')) { $('store').value = params.get('store'); subscribe(params.get('store')); }
  });
})();
