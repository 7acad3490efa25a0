// `npm run build:site`: writes dist/site/, a static site any file host can serve (no Node server): the viewer
// (web/index.html, web/style.css, web/dist/viewer.js), the simulator for the browser (web/dist/sim-worker.js) and
// the scenario library (web/dist/scenarios.json), so a visitor picks a scenario and runs it in the page, and the
// docs pages (docs/*.md and the tours' docs/tours/*.md rendered with marked, links between pages rewritten to .html, images copied).
// Run after `npm run build` (the npm script does both). `node scripts/build-site.mjs OUTDIR` writes elsewhere.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { marked } from "marked";

const out = process.argv[2] ?? "dist/site";
const BUNDLES = ["viewer.js", "sim-worker.js", "scenarios.json"];
for (const file of BUNDLES) {
  if (!existsSync(join("web/dist", file))) {
    process.stderr.write(`build-site: web/dist/${file} is missing: run npm run build first\n`);
    process.exit(2);
  }
}

// A fresh folder each time, written under a temporary name and moved into place, so a failed build leaves the
// previous site whole.
const partial = `${out}.partial`;
rmSync(partial, { recursive: true, force: true });
mkdirSync(join(partial, "dist"), { recursive: true });
mkdirSync(join(partial, "docs"), { recursive: true });

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

// The viewer, with a link to the docs in its header.
const index = readFileSync("web/index.html", "utf8").replace('<span class="brand">kafkasim</span>', '<span class="brand">kafkasim</span> <a class="docs-link" href="docs/index.html">docs</a>');
writeFileSync(join(partial, "index.html"), index);
copyFileSync("web/style.css", join(partial, "style.css"));
for (const file of BUNDLES) copyFileSync(join("web/dist", file), join(partial, "dist", file));

// The docs: every docs/*.md as a page; README as the docs' front page.
const pages = readdirSync("docs").filter((name) => name.endsWith(".md")).sort();
const titleOf = (markdown, fallback) => /^#\s+(.+)$/m.exec(markdown)?.[1] ?? fallback;
const rewriteLinks = (html) =>
  html
    .replace(/href="(?:docs\/)?tours\/([\w.-]+)\.md(#[^"]*)?"/g, (_, page, hash) => `href="tour-${page}.html${hash ?? ""}"`)
    .replace(/href="(?:docs\/)?([\w.-]+)\.md(#[^"]*)?"/g, (_, page, hash) => `href="${page}.html${hash ?? ""}"`)
    .replace(/href="(?:\.\.\/)?README\.md(#[^"]*)?"/g, (_, hash) => `href="index.html${hash ?? ""}"`);
const tourNames = existsSync("docs/tours") ? readdirSync("docs/tours").filter((name) => name.endsWith(".md")).sort() : [];
const nav =
  pages.map((name) => `<a href="${name.replace(/\.md$/, ".html")}">${esc(name.replace(/\.md$/, ""))}</a>`).join(" · ") +
  (tourNames.length > 0 ? ` · tours: ${tourNames.map((name) => `<a href="tour-${name.replace(/\.md$/, ".html")}">${esc(name.replace(/\.md$/, ""))}</a>`).join(" · ")}` : "");
const page = (title, body) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} — kafkasim</title><link rel="stylesheet" href="docs.css"></head>
<body><nav><a href="../index.html"><b>kafkasim</b> — run a scenario</a> · <a href="index.html">overview</a> · ${nav}</nav>
<main>${body}</main></body></html>
`;
for (const name of pages) {
  const markdown = readFileSync(join("docs", name), "utf8");
  writeFileSync(join(partial, "docs", name.replace(/\.md$/, ".html")), page(titleOf(markdown, name), rewriteLinks(marked.parse(markdown))));
}
// The guided tours' pages (docs/tours/NAME.md) as tour-NAME.html, beside the others.
const tours = existsSync("docs/tours") ? readdirSync("docs/tours").filter((name) => name.endsWith(".md")).sort() : [];
for (const name of tours) {
  const markdown = readFileSync(join("docs/tours", name), "utf8");
  writeFileSync(join(partial, "docs", `tour-${name.replace(/\.md$/, ".html")}`), page(titleOf(markdown, name), rewriteLinks(marked.parse(markdown))));
}
const readme = readFileSync("README.md", "utf8").replace(/\]\(docs\//g, "](");
writeFileSync(join(partial, "docs", "index.html"), page("kafkasim", rewriteLinks(marked.parse(readme))));
for (const name of readdirSync("docs")) {
  if (/\.(png|svg|jpg|json)$/.test(name)) copyFileSync(join("docs", name), join(partial, "docs", basename(name)));
}
if (existsSync("docs/images")) {
  mkdirSync(join(partial, "docs", "images"), { recursive: true });
  for (const name of readdirSync("docs/images")) copyFileSync(join("docs/images", name), join(partial, "docs", "images", name));
}
writeFileSync(
  join(partial, "docs", "docs.css"),
  `body { margin: 0; font-family: system-ui, sans-serif; font-size: 15px; line-height: 1.5; color: #222; }
nav { background: #1f2a44; color: #cfd6e6; padding: 8px 16px; font-size: 13px; }
nav a { color: #fff; }
main { max-width: 60rem; margin: 0 auto; padding: 8px 20px 40px; }
pre { background: #f4f5f8; padding: 8px 10px; overflow: auto; font-size: 13px; }
code { font-family: ui-monospace, monospace; font-size: 0.92em; }
table { border-collapse: collapse; font-size: 13px; } td, th { border: 1px solid #ddd; padding: 3px 6px; vertical-align: top; }
img { max-width: 100%; }
`,
);

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, ".."), { recursive: true });
renameSync(partial, out);
process.stdout.write(`build-site: ${out}/ (index.html, the simulator, ${pages.length + 1} docs pages and ${tours.length} tours)\n`);
