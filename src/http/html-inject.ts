/**
 * Putting a script first in an HTML page served to an app (the app worker's bridge
 * client). The page is decoded with the charset it declares — the Content-Type
 * parameter, else a byte-order mark, else a `<meta charset>` in its first 1,024
 * bytes, else UTF-8 (the web's default for new content) — and sent on as UTF-8 with
 * that said in its Content-Type, so the browser never guesses: a page stored as
 * `text/html` with no charset shows the same characters however it reaches the tab.
 */

/** The charset label of a Content-Type header value, or undefined when none is given. */
export function charsetParam(contentType: string): string | undefined {
  const m = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  const label = (m?.[1] ?? m?.[2] ?? '').trim();
  return label === '' ? undefined : label.toLowerCase();
}

/** The charset a browser would pick for these bytes when the header names none. */
export function sniffHtmlCharset(bytes: Uint8Array): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  // The prescan looks at ASCII only, so a Latin-1 view of the first 1,024 bytes is exact.
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 1024));
  const meta = /<meta\s[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)/i.exec(head);
  return meta?.[1]?.toLowerCase() ?? 'utf-8';
}

function decoderFor(label: string): TextDecoder {
  try {
    return new TextDecoder(label);
  } catch {
    return new TextDecoder('utf-8'); // An unknown label: browsers fall back the same way.
  }
}

/**
 * The page with `tag` first in its head (or first of all when it has no head), as a
 * UTF-8 string with the Content-Type to send it under. Other headers are the caller's.
 */
export function injectIntoHtml(bytes: Uint8Array, contentType: string, tag: string): { html: string; contentType: string } {
  const charset = charsetParam(contentType) ?? sniffHtmlCharset(bytes);
  const html = decoderFor(charset).decode(bytes);
  const head = /<head(\s[^>]*)?>/i.exec(html);
  const at = head ? head.index + head[0].length : 0;
  const type = contentType.split(';')[0]!.trim() || 'text/html';
  return { html: html.slice(0, at) + tag + html.slice(at), contentType: `${type}; charset=utf-8` };
}
