/**
 * The frame of the HTML pages a server of Conduit serves (the dashboard, `conduit serve`'s chat demo):
 * the document head that loads one stylesheet and one ES module and nothing inline, so that every page
 * runs under the strict Content-Security-Policy of dashboard-assets.ts.
 * @module
 */

/** What a page's head loads. */
export interface PageHeadOptions {
  /** The document title. */
  title: string;
  /** URL path of the icon. */
  icon: string;
  /** URL path of the stylesheet. */
  stylesheet: string;
  /** URL path of the page's ES module (the behaviour: the markup has no inline script). */
  script: string;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** `text` safe in HTML text and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

/** The start of a page, up to and including `<body>` and its line break; every value is escaped. */
export function pageHead(options: PageHeadOptions): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<link rel="icon" href="${escapeHtml(options.icon)}">
<link rel="stylesheet" href="${escapeHtml(options.stylesheet)}">
<script type="module" src="${escapeHtml(options.script)}"></script>
</head>
<body>
`;
}
