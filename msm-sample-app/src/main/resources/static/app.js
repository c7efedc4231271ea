'use strict';

const $ = (id) => document.getElementById(id);

async function call(method, path, body) {
	const response = await fetch(path, {
		method,
		body,
		headers: body === undefined ? {} : { 'Content-Type': 'text/plain' },
		credentials: 'same-origin'
	});
	if (!response.ok) {
		throw new Error(`${method} ${path}: HTTP ${response.status}`);
	}
	return response.status === 204 ? null : response.json();
}

// The session as last shown in this tab, kept across reloads to notice a move to another node.
const SHOWN = 'msm.shown';

// "<32 hex>-n2" -> "<32 hex>": what stays the same when a session moves to another node.
const base = (id) => id.slice(0, id.lastIndexOf('-'));

function noticeMove(session) {
	const before = JSON.parse(sessionStorage.getItem(SHOWN) ?? 'null');
	sessionStorage.setItem(SHOWN, JSON.stringify({ sessionId: session.sessionId, node: session.node }));
	if (!before?.node || !session.node || before.node === session.node
		|| base(before.sessionId) !== base(session.sessionId)) {
		return;
	}
	// Only the server that found the node dead knows it is; the other one may not have tried it yet.
	const why = session.nodesDown?.includes(before.node) ? ` (node ${before.node} unreachable)` : '';
	$('moved').textContent = `Session moved from ${before.node} to ${session.node}${why}; new id …-${session.node}`;
	$('moved').hidden = false;
}

function render(session) {
	noticeMove(session);
	$('instance').textContent = session.instance;
	$('node').textContent = session.node ?? '(single node)';
	$('counter').textContent = session.counter;
	$('session-id').textContent = session.sessionId;
	$('user').textContent = session.user ?? '(anonymous)';
	const rows = $('attributes');
	rows.replaceChildren();
	for (const [name, value] of Object.entries(session.attributes)) {
		const row = rows.insertRow();
		row.insertCell().textContent = name;
		row.insertCell().textContent = value;
		const remove = document.createElement('button');
		remove.type = 'button';
		remove.textContent = 'remove';
		remove.addEventListener('click', () => run(() => call('DELETE', `/api/attributes/${encodeURIComponent(name)}`)));
		row.insertCell().append(remove);
	}
	$('no-attributes').hidden = rows.rows.length > 0;
}

async function run(action) {
	try {
		render(await action());
		$('error').hidden = true;
	}
	catch (error) {
		$('error').textContent = error.message;
		$('error').hidden = false;
	}
}

$('increment').addEventListener('click', () => run(() => call('POST', '/api/counter')));

$('attribute-form').addEventListener('submit', (event) => {
	event.preventDefault();
	const name = $('attribute-name').value.trim();
	run(() => call('PUT', `/api/attributes/${encodeURIComponent(name)}`, $('attribute-value').value));
	$('attribute-form').reset();
});

fetch('/csrf', { credentials: 'same-origin' })
	.then((response) => response.json())
	.then((token) => { $('csrf').name = token.parameterName; $('csrf').value = token.token; });

run(() => call('GET', '/api/session'));
