// perps_stats dashboard: reads perps_api (the views and RPCs any HTTP client
// reads) from the origin that served the page, draws it with uPlot, and
// reads it again every REFRESH_MS.  It only reads: GET requests, nothing
// else.
//
// Numbers stay exact as far as they can: JSON.parse keeps each number's
// source text (the API sends numeric as JSON numbers), tables and the
// #perps-series element show that text, and only the charts use the double
// nearest to it (a pixel needs no more).  Where the browser does not give
// the source text (older than Chromium 114), the double's shortest text is
// shown instead.
'use strict';
(function () {
    const REFRESH_MS = 10000;
    const API = '../';                      // the page is <api>/rpc/dashboard
    const BPS = ['1', '2_5', '5', '10', '20', '50', '100'];
    const BPS_VALUE = [1, 2.5, 5, 10, 20, 50, 100];
    const FUNDING_DAYS = 7, OI_HOURS = 6, EVENTS_HOURS = 24, EVENTS_MAX = 500;
    const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2',
                     '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#637939', '#8c6d31', '#843c39'];

    // A number of the API: its decimal text and the nearest double.
    class Num {
        constructor(text, value) { this.text = text; this.value = value === undefined ? Number(text) : value; }
        toJSON() { return this.text; }
    }
    function parseExact(text) {
        return JSON.parse(text, function (key, value, context) {
            if (typeof value !== 'number') return value;
            return new Num(context && typeof context.source === 'string' ? context.source : String(value));
        });
    }
    const val = (x) => (x instanceof Num ? x.value : null);
    const txt = (x) => (x === null || x === undefined ? null : x instanceof Num ? x.text : String(x));
    const secs = (iso) => Date.parse(iso) / 1000;

    async function get(path) {
        const r = await fetch(API + path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
        const body = await r.text();
        if (!r.ok) {
            let msg = body;
            try { msg = JSON.parse(body).message || body; } catch (e) { /* not JSON */ }
            throw new Error(path.split('?')[0] + ': HTTP ' + r.status + ': ' + msg);
        }
        return parseExact(body);
    }

    // one colour per venue, the same on every chart: its place among all
    // the venues (perps_api.exchanges, read once), or a hash of its name
    let venues = [];
    function colour(venue) {
        const i = venues.indexOf(venue);
        if (i >= 0) return PALETTE[i % PALETTE.length];
        let h = 0;
        for (const c of String(venue)) h = (h * 31 + c.charCodeAt(0)) >>> 0;
        return PALETTE[h % PALETTE.length];
    }

    // Series aligned on one x: rows grouped by key(row), each group's y at
    // its x (null where it has none).  Returns {x, groups: [{label, ys}]};
    // with xTextOf, each x is a Num of that text (a time as the API wrote it).
    function align(rows, xOf, keyOf, yOf, xTextOf) {
        const xs = [...new Set(rows.map(xOf))].sort((a, b) => a - b);
        const at = new Map(xs.map((x, i) => [x, i]));
        const groups = new Map();
        for (const r of rows) {
            const k = keyOf(r);
            if (!groups.has(k)) groups.set(k, xs.map(() => null));
            groups.get(k)[at.get(xOf(r))] = yOf(r);
        }
        const labels = [...groups.keys()].sort();
        let x = xs;
        if (xTextOf) {
            const text = new Map(rows.map((r) => [xOf(r), xTextOf(r)]));
            x = xs.map((v) => new Num(text.get(v), v));
        }
        return { x: x, groups: labels.map((l) => ({ label: l, ys: groups.get(l) })) };
    }

    const plots = {};
    // draw ID X SERIES OPTS: the chart of section ID; SERIES [{label, ys
    // (API values), stroke, dash}], X numbers.  Records what it drew.
    function draw(id, x, series, opts, record) {
        const box = document.querySelector('#' + id + ' .plot');
        if (plots[id]) { plots[id].destroy(); delete plots[id]; }
        box.textContent = '';
        record.x = x.map((v) => (v instanceof Num ? v.text : v));
        record.series = series.map((s) => ({ label: s.label, values: s.ys.map(txt) }));
        if (series.length === 0 || x.length === 0) {
            const p = document.createElement('p');
            p.className = 'empty';
            p.textContent = 'no data for this symbol yet';
            box.appendChild(p);
            return;
        }
        const width = Math.max(box.clientWidth, 400);
        const o = Object.assign({
            width: width, height: 300,
            legend: { live: true },
            series: [{}].concat(series.map((s) => Object.assign({
                label: s.label, stroke: s.stroke, width: 1.5, spanGaps: true, dash: s.dash,
            }, opts.seriesExtra || {}))),
        }, opts.uplot);
        const data = [x.map((v) => (v instanceof Num ? v.value : v))].concat(series.map((s) => s.ys.map(val)));
        plots[id] = new uPlot(o, data, box);
        // what uPlot was given, as it holds it: the test compares it with the API too
        record.plotted = plots[id].data.slice(1);
        record.legend = plots[id].series.slice(1).map((s) => s.label);
    }

    const fmtBps = (u, splits) => splits.map((v) => (v === null ? '' : v + ' bps'));

    function depthChart(rows, record) {
        // x: -100 .. -1 (bids), 1 .. 100 (asks) bps on an asinh scale
        const x = BPS_VALUE.slice().reverse().map((b) => -b).concat(BPS_VALUE);
        const series = rows.map((r) => ({
            label: r.exchange, stroke: colour(r.exchange),
            ys: BPS.slice().reverse().map((b) => r['bid_' + b + 'bps']).concat(BPS.map((b) => r['ask_' + b + 'bps'])),
        }));
        draw('depth', x, series, {
            uplot: {
                scales: { x: { time: false, distr: 4, asinh: 1 }, y: { range: (u, lo, hi) => [0, hi * 1.05] } },
                axes: [{ values: fmtBps }, { size: 80 }],
            },
        }, record);
    }

    function slippageChart(rows, record) {
        const a = align(rows, (r) => r.amount.value, (r) => r.exchange + ' ' + r.side, (r) => r.slippage_bps);
        const series = a.groups.map((g) => ({
            label: g.label, ys: g.ys, stroke: colour(g.label.split(' ')[0]),
            dash: g.label.endsWith(' sell') ? [6, 4] : undefined,
        }));
        draw('slippage', a.x, series, {
            uplot: {
                scales: { x: { time: false, distr: 3, log: 10 } },
                axes: [{ values: (u, s) => s.map((v) => (v === null ? '' : v >= 1e6 ? v / 1e6 + 'M' : v >= 1e3 ? v / 1e3 + 'k' : v)) },
                       { values: fmtBps, size: 70 }],
            },
            seriesExtra: { points: { show: true, size: 5 } },
        }, record);
    }

    // funding rates are fractions: shown in % on the axis
    function timeChart(id, rows, tsCol, yCol, record) {
        const yFormat = id === 'funding' ? (u, s) => s.map((v) => (v === null ? '' : +(v * 100).toPrecision(6) + ' %'))
                                         : undefined;
        const a = align(rows, (r) => secs(r[tsCol]), (r) => r.exchange, (r) => r[yCol], (r) => r[tsCol]);
        const series = a.groups.map((g) => ({ label: g.label, ys: g.ys, stroke: colour(g.label) }));
        draw(id, a.x, series, { uplot: { axes: [{}, Object.assign({ size: 90 }, yFormat ? { values: yFormat } : {})] },
                                seriesExtra: { points: { show: true, size: 4 } } }, record);
    }

    // events: one row per venue, a point at each event's time
    function eventsChart(rows, record) {
        const names = [...new Set(rows.map((r) => r.exchange || '(no venue)'))].sort();
        const a = align(rows, (r) => secs(r.ts), (r) => r.exchange || '(no venue)', (r) => r.kind, (r) => r.ts);
        const series = a.groups.map((g) => ({ label: g.label, ys: g.ys, stroke: colour(g.label) }));
        // the y of a venue's points is its row; the recorded values are the kinds
        draw('events', a.x, series.map((s) => ({
            label: s.label, stroke: s.stroke,
            ys: s.ys.map((k) => (k === null ? null : new Num(String(names.indexOf(s.label))))),
        })), {
            uplot: {
                height: Math.max(160, 60 + 28 * names.length),
                scales: { y: { range: [-0.5, names.length - 0.5] } },
                axes: [{}, { size: 110, splits: () => names.map((n, i) => i), values: () => names }],
            },
            seriesExtra: { paths: () => null, points: { show: true, size: 9 } },
        }, record);
        record.series = series.map((s) => ({ label: s.label, values: s.ys }));
        const tbody = document.querySelector('#events table.events tbody');
        tbody.textContent = '';
        for (const r of rows.slice(-20).reverse())
            addRow(tbody, [r.ts, r.exchange, r.symbol, r.source, r.kind, r.message], [5]);
    }

    function addRow(tbody, cells, wrapCols) {
        const tr = document.createElement('tr');
        cells.forEach((c, i) => {
            const td = document.createElement('td');
            td.textContent = txt(c) === null ? '' : txt(c);
            if (c instanceof Num) td.className = 'num';
            if (wrapCols && wrapCols.includes(i)) td.className = 'wrap';
            tr.appendChild(td);
        });
        tbody.appendChild(tr);
        return tr;
    }

    const STREAM_COLS = ['exchange', 'state', 'connected_since', 'messages', 'rows_written', 'last_message_at',
                         'reconnects', 'gaps', 'resyncs', 'parse_errors', 'last_error'];
    function streamsTable(rows, record) {
        const tbody = document.querySelector('#streams tbody');
        tbody.textContent = '';
        record.rows = rows.map((r) => STREAM_COLS.map((c) => txt(r[c])));
        for (const r of rows) {
            const tr = addRow(tbody, STREAM_COLS.map((c) => r[c]), [10]);
            tr.children[1].className = 'state-' + r.state;
        }
        if (rows.length === 0)
            addRow(tbody, ['no stream worker has run since the server started']).firstChild.colSpan = STREAM_COLS.length;
    }

    const iso = (ms) => new Date(ms).toISOString();
    const enc = encodeURIComponent;
    let loads = 0, timer = null;

    async function load(symbol) {
        const now = Date.now();
        const s = enc(symbol);
        const src = {
            depth: 'latest_liquidity?symbol=eq.' + s + '&order=exchange&select=exchange,ts,mid_price,' +
                   BPS.map((b) => 'bid_' + b + 'bps,ask_' + b + 'bps').join(','),
            funding: 'funding_rates?symbol=eq.' + s + '&funding_time=gte.' + iso(now - FUNDING_DAYS * 864e5) +
                     '&order=funding_time,exchange&select=exchange,funding_time,rate',
            open_interest: 'open_interest?symbol=eq.' + s + '&ts=gte.' + iso(now - OI_HOURS * 36e5) +
                           '&order=ts,exchange&select=exchange,ts,open_interest',
            streams: 'stream_status?order=exchange&select=' + STREAM_COLS.join(','),
            events: 'ingest_events?or=(symbol.eq.' + s + ',symbol.is.null)&ts=gte.' + iso(now - EVENTS_HOURS * 36e5) +
                    '&order=ts.desc,id.desc&limit=' + EVENTS_MAX + '&select=id,ts,exchange,symbol,source,kind,message',
        };
        const [depth, funding, oi, streams, events] = await Promise.all(
            ['depth', 'funding', 'open_interest', 'streams', 'events'].map((k) => get(src[k])));
        // slippage: the rows stored with each venue's newest book (the same ts
        // as its latest_liquidity row)
        src.slippage = 'slippage?symbol=eq.' + s + '&order=exchange,side,amount&select=exchange,ts,amount,side,slippage_bps,feasible' +
            (depth.length ? '&or=' + enc('(' + depth.map((r) => 'and(exchange.eq."' + r.exchange + '",ts.eq."' + r.ts + '")').join(',') + ')')
                          : '&limit=0');
        const slip = await get(src.slippage);
        const rec = { symbol: symbol, loaded_at: iso(now), loads: loads + 1, source: src, charts: {} };
        for (const k of ['depth', 'slippage', 'funding', 'open_interest', 'events', 'streams']) rec.charts[k] = {};
        depthChart(depth, rec.charts.depth);
        slippageChart(slip, rec.charts.slippage);
        timeChart('funding', funding, 'funding_time', 'rate', rec.charts.funding);
        timeChart('open_interest', oi, 'ts', 'open_interest', rec.charts.open_interest);
        eventsChart(events.slice().reverse(), rec.charts.events);
        streamsTable(streams, rec.charts.streams);
        loads++;
        document.getElementById('perps-series').textContent = JSON.stringify(rec);
    }

    function symbolFromHash() {
        const m = /(?:^#|&)symbol=([^&]+)/.exec(location.hash);
        return m ? decodeURIComponent(m[1]) : null;
    }

    async function refresh() {
        clearTimeout(timer);
        const status = document.getElementById('status');
        const sel = document.getElementById('symbol');
        try {
            if (venues.length === 0)
                venues = (await get('exchanges?order=exchange&select=exchange')).map((r) => r.exchange);
            const symbols = (await get('symbols?order=symbol&select=symbol')).map((r) => r.symbol);
            const wanted = sel.value || symbolFromHash() || (symbols.includes('BTC') ? 'BTC' : symbols[0]);
            if (sel.options.length !== symbols.length || symbols.some((v, i) => sel.options[i].value !== v)) {
                sel.textContent = '';
                for (const v of symbols) sel.appendChild(new Option(v, v));
            }
            if (wanted === undefined) {
                status.textContent = 'no active market yet';
            } else {
                sel.value = wanted;
                await load(wanted);
                status.className = '';
                status.textContent = wanted + ', updated ' + new Date().toISOString().replace('T', ' ').slice(0, 19) +
                    ' UTC; every ' + REFRESH_MS / 1000 + ' s';
            }
        } catch (e) {
            status.className = 'error';
            status.textContent = String(e.message || e);
        }
        timer = setTimeout(refresh, REFRESH_MS);
    }

    document.getElementById('symbol').addEventListener('change', (ev) => {
        history.replaceState(null, '', '#symbol=' + enc(ev.target.value));
        refresh();
    });
    window.addEventListener('hashchange', () => {
        const s = symbolFromHash();
        if (s) { document.getElementById('symbol').value = s; refresh(); }
    });
    refresh();
})();
