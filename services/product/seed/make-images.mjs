#!/usr/bin/env node
// Writes one SVG per product of services/product/seed/catalog.json to
// frontend/public/images/products/<sku-lowercase>.svg (the image_url that
// make-seed.mjs puts in seed.sql).
//
//   node services/product/seed/make-images.mjs
//
// Node 20, no packages. Each picture is 400x300: a gradient in the colours of
// the product's category, a pictogram of the product's "kind" and its
// "short_name" (falling back to "name") as a caption. Add a kind by adding an
// entry to ICONS (drawn in a 100x100 box, white strokes 6 wide by default;
// `currentColor` is the category's dark ink colour).
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const outDir = join(root, 'frontend', 'public', 'images', 'products');
const catalog = JSON.parse(readFileSync(join(here, 'catalog.json'), 'utf8'));

// Category colours: gradient from, gradient to, ink (details drawn on white).
const STYLES = {
  audio: ['#9333ea', '#5b21b6', '#4c1d95'],
  computers: ['#3b82f6', '#1e40af', '#1e3a8a'],
  phones: ['#14b8a6', '#0f766e', '#134e4a'],
  home: ['#f59e0b', '#c2410c', '#9a3412'],
  books: ['#e11d48', '#881337', '#881337'],
  sports: ['#22c55e', '#15803d', '#14532d'],
  toys: ['#ec4899', '#f97316', '#9d174d'],
  clothing: ['#64748b', '#1e293b', '#1e293b'],
  office: ['#0ea5e9', '#0369a1', '#0c4a6e'],
};
const FALLBACK_STYLE = ['#6b7280', '#374151', '#1f2937'];

// Shorthands for the pictograms.
const W = 'fill="#fff"'; // white fill (keeps the white stroke: soft corners)
const WS = 'fill="#fff" stroke="none"'; // white fill, no stroke
const A = 'fill="currentColor" stroke="none"'; // ink fill
const AS = 'stroke="currentColor"'; // ink stroke
const rows = (xs, ys, w, h, attrs) =>
  ys.flatMap((y) => xs.map((x) => `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="1.5" ${attrs}/>`)).join('');

const ICONS = {
  headphones: `<path d="M18 62V50a32 32 0 0 1 64 0v12"/><rect x="11" y="56" width="19" height="32" rx="8" ${W}/><rect x="70" y="56" width="19" height="32" rx="8" ${W}/>`,
  earbuds: `<circle cx="32" cy="36" r="14" ${W}/><rect x="23" y="40" width="10" height="40" rx="5" ${W}/><circle cx="68" cy="36" r="14" ${W}/><rect x="67" y="40" width="10" height="40" rx="5" ${W}/><circle cx="32" cy="36" r="5" ${A}/><circle cx="68" cy="36" r="5" ${A}/>`,
  speaker: `<rect x="24" y="8" width="52" height="84" rx="9"/><circle cx="50" cy="62" r="17"/><circle cx="50" cy="27" r="7"/><circle cx="50" cy="62" r="5" ${WS}/>`,
  turntable: `<rect x="6" y="18" width="88" height="66" rx="7"/><circle cx="40" cy="51" r="24" fill="#fff" fill-opacity=".35"/><circle cx="40" cy="51" r="5" ${WS}/><path d="M80 28v28l-16 12"/><circle cx="80" cy="28" r="4" ${WS}/>`,
  microphone: `<rect x="36" y="6" width="28" height="50" rx="14" ${W}/><path d="M24 42a26 26 0 0 0 52 0M50 68v18M36 90h28"/><path d="M44 22h12M44 32h12" ${AS} stroke-width="3"/>`,
  laptop: `<rect x="17" y="18" width="66" height="48" rx="5"/><rect x="25" y="26" width="50" height="32" rx="1" fill="#fff" fill-opacity=".35" stroke="none"/><path d="M5 76h90l-6 10H11z" ${W}/>`,
  keyboard: `<rect x="5" y="26" width="90" height="50" rx="7"/>${rows([15, 27, 39, 51, 63, 75], [36, 48], 9, 7, WS)}<rect x="27" y="61" width="46" height="6" rx="2" ${WS}/>`,
  mouse: `<rect x="26" y="8" width="48" height="84" rx="24"/><path d="M50 10v30M28 40h44"/><rect x="46" y="18" width="8" height="14" rx="4" ${WS}/>`,
  monitor: `<rect x="6" y="12" width="88" height="58" rx="5"/><rect x="14" y="20" width="72" height="42" rx="1" fill="#fff" fill-opacity=".35" stroke="none"/><path d="M50 70v14M30 88h40"/>`,
  webcam: `<circle cx="50" cy="40" r="28" ${W}/><circle cx="50" cy="40" r="13" ${A}/><circle cx="45" cy="35" r="4" ${WS}/><path d="M50 68v14M28 88h44"/>`,
  ssd: `<rect x="20" y="8" width="60" height="84" rx="10"/><rect x="32" y="20" width="36" height="36" rx="3" fill="#fff" fill-opacity=".35" stroke="none"/><circle cx="50" cy="76" r="4" ${WS}/>`,
  phone: `<rect x="27" y="5" width="46" height="90" rx="9"/><rect x="33" y="15" width="34" height="64" rx="1" fill="#fff" fill-opacity=".35" stroke="none"/><circle cx="50" cy="86" r="3" ${WS}/>`,
  tablet: `<rect x="8" y="14" width="84" height="72" rx="9"/><rect x="17" y="23" width="66" height="54" rx="1" fill="#fff" fill-opacity=".35" stroke="none"/><circle cx="87" cy="50" r="2.5" ${WS}/>`,
  watch: `<rect x="36" y="2" width="28" height="96" rx="6" fill="#fff" fill-opacity=".55" stroke="none"/><rect x="26" y="26" width="48" height="48" rx="13" ${W}/><path d="M50 36v14l9 7" ${AS} stroke-width="5"/>`,
  charger: `<ellipse cx="50" cy="78" rx="42" ry="12" ${W}/><path d="M56 6 32 44h16l-6 24 26-40H52z" ${W}/>`,
  case: `<rect x="27" y="5" width="46" height="90" rx="13"/><rect x="35" y="13" width="16" height="24" rx="5" ${W}/><circle cx="43" cy="20" r="3" ${A}/><circle cx="43" cy="30" r="3" ${A}/>`,
  powerbank: `<rect x="22" y="16" width="56" height="78" rx="9"/><rect x="40" y="6" width="20" height="8" rx="2" ${WS}/><path d="M55 30 39 58h12l-5 20 17-30H51z" ${WS}/>`,
  grinder: `<path d="M28 14h44l-7 22H35z" ${W}/><rect x="26" y="36" width="48" height="54" rx="6"/><path d="M50 14V4h28"/><circle cx="80" cy="6" r="5" ${WS}/><ellipse cx="50" cy="63" rx="9" ry="13" transform="rotate(25 50 63)" ${WS}/><path d="M46 52q8 11 0 22" transform="rotate(25 50 63)" ${AS} stroke-width="2.5"/>`,
  kettle: `<path d="M26 88h50l-6-50H32z" ${W}/><path d="M34 38q17-18 34 0"/><circle cx="51" cy="26" r="4" ${WS}/><path d="M72 48q16 6 10 30"/><path d="M28 76Q8 62 10 38"/><path d="M36 74h30" ${AS} stroke-width="4"/>`,
  pan: `<circle cx="38" cy="54" r="30"/><circle cx="38" cy="54" r="19" fill="#fff" fill-opacity=".35" stroke="none"/><path d="M68 54h26" stroke-width="11"/>`,
  knife: `<g transform="rotate(-30 50 50)"><path d="M2 58C20 42 44 40 60 40v18z" ${W}/><rect x="62" y="42" width="34" height="14" rx="5" ${W}/><circle cx="72" cy="49" r="2.5" ${A}/><circle cx="86" cy="49" r="2.5" ${A}/></g>`,
  blender: `<path d="M28 10h44l-7 48H35z"/><path d="M24 10h52"/><path d="M40 30 60 40" ${AS} stroke-width="3"/><rect x="28" y="62" width="44" height="28" rx="5" ${W}/><circle cx="50" cy="76" r="5" ${A}/>`,
  mug: `<path d="M18 34h50v36a16 16 0 0 1-16 16H34a16 16 0 0 1-16-16z" ${W}/><path d="M68 42h6a11 11 0 0 1 0 22h-6"/><path d="M34 24q-5-7 0-14M50 24q-5-7 0-14"/>`,
  board: `<rect x="8" y="22" width="66" height="58" rx="10" ${W}/><rect x="74" y="40" width="20" height="22" rx="7" ${W}/><circle cx="86" cy="51" r="3.5" ${A}/><path d="M20 40h40M20 52h44M20 64h36" ${AS} stroke-width="2.5" stroke-opacity=".5"/>`,
  book: `<path d="M22 8h50a6 6 0 0 1 6 6v72a6 6 0 0 1-6 6H22z" ${W}/><path d="M32 8v84" ${AS} stroke-width="4"/><rect x="42" y="24" width="26" height="12" rx="2" ${A}/>`,
  'book-open': `<path d="M50 26C40 18 24 16 8 18v60c16-2 32 0 42 8 10-8 26-10 42-8V18c-16-2-32 0-42 8z" ${W}/><path d="M50 28v54" ${AS} stroke-width="3"/><path d="M18 34q12-2 22 3M18 48q12-2 22 3M60 37q10-5 22-3M60 51q10-5 22-3" ${AS} stroke-width="2.5" stroke-opacity=".5"/>`,
  books: `<rect x="14" y="70" width="74" height="16" rx="3" ${W}/><rect x="20" y="48" width="64" height="16" rx="3" fill="#fff" fill-opacity=".6"/><rect x="10" y="26" width="70" height="16" rx="3" ${W}/><path d="M24 26v16M76 70v16" ${AS} stroke-width="3"/>`,
  shoe: `<path d="M6 76V34h18c4 14 14 20 28 20l20 6c16 4 24 8 24 16v2H6z" ${W}/><path d="M6 74h90" ${AS} stroke-width="5"/><path d="M20 64q20 2 38-12" fill="none" ${AS} stroke-width="3.5"/><path d="M38 44l6 6M46 40l6 6" ${AS} stroke-width="3"/>`,
  sneaker: `<path d="M6 76V40h24c4 10 14 14 24 14l22 8c14 4 20 8 20 14v2H6z" ${W}/><path d="M6 70h90" ${AS} stroke-width="4"/><path d="M6 78h90" ${AS} stroke-width="3"/><circle cx="38" cy="44" r="2" ${A}/><circle cx="46" cy="46" r="2" ${A}/>`,
  yogamat: `<rect x="30" y="70" width="66" height="10" rx="2" ${W}/><circle cx="30" cy="56" r="24" ${W}/><path d="M30 56m-3 0a3 3 0 1 1 6 0a7 7 0 1 1-14 0a11 11 0 1 1 22 0a15 15 0 1 1-30 0" ${AS} stroke-width="3"/>`,
  bottle: `<rect x="38" y="4" width="24" height="14" rx="3" ${WS}/><path d="M34 20h32v8c8 4 10 10 10 18v40a8 8 0 0 1-8 8H32a8 8 0 0 1-8-8V46c0-8 2-14 10-18z"/><rect x="27" y="52" width="46" height="16" fill="#fff" fill-opacity=".5" stroke="none"/>`,
  dumbbell: `<path d="M20 50h60"/><rect x="14" y="26" width="14" height="48" rx="4" ${W}/><rect x="72" y="26" width="14" height="48" rx="4" ${W}/><rect x="4" y="36" width="10" height="28" rx="3" ${W}/><rect x="86" y="36" width="10" height="28" rx="3" ${W}/>`,
  tent: `<path d="M50 14 8 84h84z" ${W}/><path d="M50 38 36 84h28z" ${A}/><path d="M4 86h92M50 14l-6-8M50 14l6-8"/>`,
  helmet: `<path d="M10 66C10 38 30 20 54 20c22 0 36 16 36 38v8z" ${W}/><path d="M34 30l6 14M52 26v16M70 30l-4 14" ${AS} stroke-width="4"/><path d="M30 66v10l18 10"/>`,
  ball: `<circle cx="50" cy="50" r="40" ${W}/><path d="M50 36l13 9-5 15H42l-5-15z" ${A}/><path d="M50 36V12M63 45l22-7M58 60l13 20M42 60 29 80M37 45l-22-7" ${AS} stroke-width="3"/>`,
  dice: `<rect x="8" y="34" width="44" height="44" rx="9" ${W}/><g transform="rotate(15 70 46)"><rect x="50" y="24" width="40" height="40" rx="8" fill="#fff" fill-opacity=".75"/></g><circle cx="20" cy="46" r="4" ${A}/><circle cx="30" cy="56" r="4" ${A}/><circle cx="40" cy="66" r="4" ${A}/><circle cx="64" cy="38" r="4" ${A}/><circle cx="76" cy="54" r="4" ${A}/>`,
  puzzle: `<path d="M22 24h18a9 9 0 1 1 18 0h18v20a9 9 0 1 1 0 18v20H22V62a9 9 0 1 0 0-18z" ${W}/>`,
  blocks: `<rect x="10" y="58" width="80" height="30" rx="3" ${W}/><rect x="16" y="50" width="12" height="8" rx="2" ${WS}/><rect x="38" y="28" width="48" height="28" rx="3" ${W}/><rect x="46" y="20" width="10" height="8" rx="2" ${WS}/><rect x="68" y="20" width="10" height="8" rx="2" ${WS}/><path d="M12 58h76" ${AS} stroke-width="2.5"/>`,
  car: `<path d="M6 70V54l12-4 14-18h32l16 18h12l2 20z" ${W}/><path d="M38 38h10v12H30zM56 38h6l10 12H56z" ${A}/><circle cx="28" cy="72" r="11" ${A}/><circle cx="74" cy="72" r="11" ${A}/><circle cx="28" cy="72" r="4" ${WS}/><circle cx="74" cy="72" r="4" ${WS}/>`,
  teddy: `<circle cx="30" cy="22" r="10" ${W}/><circle cx="70" cy="22" r="10" ${W}/><ellipse cx="50" cy="78" rx="26" ry="18" ${W}/><circle cx="50" cy="40" r="23" ${W}/><circle cx="42" cy="36" r="3" ${A}/><circle cx="58" cy="36" r="3" ${A}/><ellipse cx="50" cy="47" rx="6" ry="4" ${A}/>`,
  kite: `<path d="M50 6 80 38 50 76 20 38z" ${W}/><path d="M50 6v70M20 38h60" ${AS} stroke-width="3"/><path d="M50 76q-12 6-4 12t-2 10" stroke-width="3"/><path d="M42 84l-6 2 2-6zM50 92l-4 6 6-1z" ${WS}/>`,
  cards: `<g transform="rotate(-20 50 90)"><rect x="30" y="14" width="40" height="58" rx="5" ${W} ${AS} stroke-width="2"/></g><g transform="rotate(20 50 90)"><rect x="30" y="14" width="40" height="58" rx="5" ${W} ${AS} stroke-width="2"/></g><rect x="30" y="14" width="40" height="58" rx="5" ${W} ${AS} stroke-width="2"/><path d="M50 34c-6-8-14 2 0 12 14-10 6-20 0-12z" ${A}/>`,
  robot: `<path d="M50 18V8"/><circle cx="50" cy="7" r="4" ${WS}/><rect x="24" y="18" width="52" height="36" rx="9" ${W}/><circle cx="39" cy="36" r="5" ${A}/><circle cx="61" cy="36" r="5" ${A}/><rect x="30" y="58" width="40" height="30" rx="6"/><path d="M30 66 16 76M70 66l14 10"/><circle cx="50" cy="73" r="4" ${WS}/>`,
  tshirt: `<path d="M34 12 14 22 6 42l16 6 4-8v48h48V40l4 8 16-6-8-20-20-10q-16 12-32 0z" ${W}/><path d="M38 14q12 8 24 0" ${AS} stroke-width="3"/>`,
  hoodie: `<path d="M34 16 16 26 8 82h14l4-38v46h48V44l4 38h14l-8-56-18-10z" ${W}/><path d="M34 16q16-20 32 0-16 18-32 0z" ${W}/><path d="M36 68h28l4 14H32z" fill="none" ${AS} stroke-width="3"/><path d="M46 32v10M54 32v10" ${AS} stroke-width="2.5"/>`,
  jacket: `<path d="M34 14 16 24 8 82h14l4-38v46h48V44l4 38h14l-8-58-18-10z" ${W}/><path d="M34 14l16 12 16-12" fill="none" ${AS} stroke-width="3"/><path d="M50 26v64" ${AS} stroke-width="3"/><path d="M32 62h10M58 62h10" ${AS} stroke-width="3"/>`,
  jeans: `<path d="M24 10h52l6 80H58L50 40l-8 50H18z" ${W}/><path d="M23 20h54M50 20v18" ${AS} stroke-width="3"/>`,
  socks: `<path d="M26 6h20v40l16 14a11 11 0 0 1-13 18L26 62z" fill="#fff" fill-opacity=".55"/><path d="M44 14h22v42l18 16a12 12 0 0 1-14 20L44 72z" ${W}/><path d="M44 24h22" ${AS} stroke-width="4"/>`,
  cap: `<path d="M8 66a36 36 0 0 1 72 0z" ${W}/><path d="M62 66h30c5 0 6 5 2 8-7 5-20 6-32 2z" ${W}/><circle cx="44" cy="29" r="4" ${A}/><path d="M44 33v33M28 38q-6 12-5 28M60 38q6 12 5 28" ${AS} stroke-width="2.5"/>`,
  scarf: `<ellipse cx="50" cy="26" rx="28" ry="12" stroke-width="12"/><rect x="54" y="32" width="18" height="52" rx="3" ${W}/><rect x="36" y="32" width="16" height="44" rx="3" fill="#fff" fill-opacity=".7"/><path d="M54 46h18M54 58h18M56 88v6M63 88v6M70 88v6" ${AS} stroke-width="3"/>`,
  notebook: `<rect x="24" y="8" width="58" height="84" rx="6" ${W}/><path d="M18 20h12M18 34h12M18 48h12M18 62h12M18 76h12"/><path d="M70 8v84" ${AS} stroke-width="4"/>`,
  pen: `<g transform="rotate(40 50 50)"><rect x="42" y="4" width="16" height="66" rx="4" ${W}/><path d="M42 72h16l-8 20z" ${W}/><path d="M56 12v26" ${AS} stroke-width="3"/></g>`,
  lamp: `<path d="M20 90h44"/><path d="M34 88 26 56l28-28"/><circle cx="26" cy="56" r="5" ${WS}/><path d="M46 18 80 30 60 54z" ${W}/><path d="M70 60l6 8M82 54l10 4" stroke-width="4"/>`,
  stapler: `<rect x="6" y="68" width="88" height="14" rx="5" ${W}/><path d="M12 62c2-16 10-22 22-22h54a6 6 0 0 1 6 6v10a6 6 0 0 1-6 6z" ${W}/><path d="M20 62h70" ${AS} stroke-width="3"/>`,
  chair: `<rect x="30" y="8" width="40" height="38" rx="9"/><rect x="22" y="50" width="56" height="12" rx="5" ${W}/><path d="M50 62v16M24 88l26-10 26 10"/><path d="M20 40v14M80 40v14"/>`,
  organizer: `<rect x="12" y="44" width="36" height="46" rx="4" ${W}/><rect x="50" y="62" width="40" height="28" rx="4"/><path d="M20 44 14 12M30 44V10M40 44l8-28" stroke-width="5"/><path d="M60 62V48h22v14" stroke-width="4"/>`,
  paper: `<rect x="18" y="20" width="56" height="72" rx="3" fill="#fff" fill-opacity=".55"/><rect x="28" y="8" width="56" height="72" rx="3" ${W}/><path d="M38 24h36M38 36h36M38 48h36M38 60h24" ${AS} stroke-width="3" stroke-opacity=".6"/>`,
  whiteboard: `<rect x="6" y="10" width="88" height="60" rx="4" ${W}/><path d="M22 72l-6 20M78 72l6 20M30 70h40"/><path d="M18 44q8-16 16 0t16 0M58 30h24M58 42h18" ${AS} stroke-width="3"/>`,
};
const FALLBACK_ICON = `<rect x="14" y="30" width="72" height="58" rx="6" ${W}/><path d="M14 46h72M50 30v58" ${AS} stroke-width="4"/><path d="M50 30q-18-24-26-8t26 8q18-24 26-8t-26 8" />`;

const FONT = `font-family="system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"`;

function xml(s) {
  return String(s)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

function svg(product, categoryName) {
  const id = product.sku.toLowerCase();
  const [from, to, ink] = STYLES[product.category] ?? FALLBACK_STYLE;
  const icon = ICONS[product.kind] ?? FALLBACK_ICON;
  const caption = product.short_name ?? product.name;
  // bold sans-serif averages ~0.6 em per character; keep the caption within 360 px
  const size = Math.max(12, Math.min(26, Math.floor(360 / (0.6 * [...caption].length))));
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" width="400" height="300" role="img">` +
    `<title>${xml(product.name)}</title>` +
    `<defs><linearGradient id="bg-${id}" x2="1" y2="1"><stop offset="0" stop-color="${from}"/><stop offset="1" stop-color="${to}"/></linearGradient></defs>` +
    `<rect width="400" height="300" fill="url(#bg-${id})"/>` +
    `<circle cx="200" cy="128" r="86" fill="#fff" fill-opacity=".14"/>` +
    `<g transform="translate(140 68) scale(1.2)" color="${ink}" fill="none" stroke="#fff" stroke-width="6" stroke-linecap="round" stroke-linejoin="round">${icon}</g>` +
    `<text x="20" y="32" fill="#fff" fill-opacity=".8" ${FONT} font-size="13" font-weight="600" letter-spacing="1.5">${xml(categoryName.toUpperCase())}</text>` +
    `<text x="200" y="264" text-anchor="middle" fill="#fff" ${FONT} font-size="${size}" font-weight="700">${xml(caption)}</text>` +
    `</svg>\n`;
}

const categoryNames = new Map(catalog.categories.map((c) => [c.slug, c.name]));
mkdirSync(outDir, { recursive: true });
const written = new Set();
const unknownKinds = new Set();
for (const p of catalog.products) {
  if (!ICONS[p.kind]) unknownKinds.add(p.kind);
  const file = `${p.sku.toLowerCase()}.svg`;
  writeFileSync(join(outDir, file), svg(p, categoryNames.get(p.category) ?? p.category));
  written.add(file);
}
console.log(`wrote ${written.size} SVGs to ${outDir}`);
if (unknownKinds.size) console.warn(`no pictogram for kind(s) ${[...unknownKinds].join(', ')}: used the generic parcel`);
const stale = readdirSync(outDir).filter((f) => f.endsWith('.svg') && !written.has(f));
if (stale.length) console.warn(`not in the catalog (left alone): ${stale.join(', ')}`);
