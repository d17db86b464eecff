/**
 * The lab's HTML: the run page's styles (sim/trace/html.ts), the lab's own, and two scripts
 * served by the lab server (uPlot and the bundle). No inline script, so the CSP can say
 * `script-src 'self'`.
 */
import { PAGE_CSS } from '../trace/html.ts';

export function labPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>psync-sim lab</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/uplot.css">
<style>${PAGE_CSS}</style>
<style>${LAB_CSS}</style>
</head>
<body>
<div id="lab"></div>
<div id="app"></div>
<script src="/uplot.js"></script>
<script src="/lab.js"></script>
</body>
</html>
`;
}

const LAB_CSS = `
#lab [hidden] { display: none !important; }
#lab { padding: 10px 20px 2px; border-bottom: 1px solid var(--line); background: #f3f5f7; }
#lab h1 { font-size: 18px; margin: 0 10px 0 0; }
#lab-lesson { max-width: 560px; }
#lab .sep { margin-left: 18px; }
#lab-actions:empty { display: none; }
#lab-actions { margin: 0 0 8px; }
#lab .row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 8px; }
#lab button, #lab select, #lab input { font: inherit; padding: 3px 8px; border: 1px solid var(--line); background: #fff; border-radius: 4px; }
#lab button { cursor: pointer; }
#lab button:hover { background: #e9ecef; }
#lab button.primary { background: #1971c2; color: #fff; border-color: #1971c2; }
#lab textarea { width: 100%; height: 160px; font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
#lab-now { font-variant-numeric: tabular-nums; font-weight: 600; min-width: 110px; }
#lab-scrub { flex: 1; min-width: 200px; }
#lab-hash { font: 11px ui-monospace, monospace; color: var(--dim); }
#lab-status { color: var(--dim); font-size: 13px; }
#lab-status.error { color: var(--bad); white-space: pre-wrap; }
.lab-nodes { display: flex; gap: 8px; flex-wrap: wrap; }
.lab-node { border: 1px solid var(--line); background: #fff; border-radius: 6px; padding: 4px 10px; cursor: pointer; min-width: 90px; }
.lab-node b { display: block; }
.lab-node span { color: var(--dim); font-size: 12px; }
.lab-node.down { opacity: .6; border-style: dashed; }
.lab-node.selected { outline: 2px solid #1971c2; }
#lab-menu { border: 1px solid var(--line); background: #fff; border-radius: 6px; padding: 8px 10px; margin-bottom: 8px; }
#lab-menu[hidden] { display: none; }
#lab-console-out { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: #1d1f21; color: #e9ecef; padding: 6px 8px; border-radius: 4px; max-height: 180px; overflow: auto; white-space: pre-wrap; margin: 6px 0; }
#lab-console-in { width: 100%; font: 12px ui-monospace, monospace; }
#lab-actions { font: 12px ui-monospace, monospace; color: var(--dim); margin: 0; padding-left: 18px; }
.state { cursor: pointer; }
`;
