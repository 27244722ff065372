import { describe, expect, it } from 'vitest';
import { charsetParam, injectIntoHtml, sniffHtmlCharset } from './html-inject.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);
const TAG = '<script src="/c.js"></script>';

describe('injecting the bridge client into an app page', () => {
  it('keeps UTF-8 text of a page stored as text/html with no charset, and says utf-8 on the way out', () => {
    const page = injectIntoHtml(utf8('<!doctype html><p>alice: <span>…</span></p>'), 'text/html', TAG);
    expect(page.html).toBe(`${TAG}<!doctype html><p>alice: <span>…</span></p>`);
    expect(page.contentType).toBe('text/html; charset=utf-8');
  });

  it('decodes with the charset the header names, else a <meta charset>, else a BOM', () => {
    const latin = new Uint8Array([...utf8('<head><title>caf'), 0xe9, ...utf8('</title></head>')]);
    expect(injectIntoHtml(latin, 'text/html; charset="ISO-8859-1"', TAG).html).toBe(`<head>${TAG}<title>café</title></head>`);
    const meta = new Uint8Array([...utf8('<head><meta charset=windows-1252><p>'), 0xe9, ...utf8('</p>')]);
    expect(injectIntoHtml(meta, 'text/html', TAG)).toEqual({ html: `<head>${TAG}<meta charset=windows-1252><p>é</p>`, contentType: 'text/html; charset=utf-8' });
    expect(injectIntoHtml(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8('<p>é</p>')]), 'text/html', TAG).html).toBe(`${TAG}<p>é</p>`);
  });

  it('reads charset parameters and falls back to UTF-8 for an unknown label', () => {
    expect(charsetParam('text/html; charset=UTF-8')).toBe('utf-8');
    expect(charsetParam('text/html;charset="koi8-r"; x=1')).toBe('koi8-r');
    expect(charsetParam('text/html')).toBeUndefined();
    expect(sniffHtmlCharset(utf8('<meta http-equiv="Content-Type" content="text/html; charset=shift_jis">'))).toBe('shift_jis');
    expect(injectIntoHtml(utf8('<head>…'), 'text/html; charset=no-such-charset', TAG).html).toBe(`<head>${TAG}…`);
  });
});
