/** The report page's stylesheet, inlined in its `<style>` so the page needs no external asset. */
export const REPORT_CSS = `
:root{--fg:#1d2430;--mut:#5b6575;--line:#dfe3ea;--bg:#f6f7f9;--ok:#1f8a4c;--skip:#6b7280;--fail:#c62828;--unconf:#e0457b;--comp:#c26a00;--excl:#7b4fb3;--run:#1d6fd1;--pend:#9aa3b2}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:#fff}
header{background:#17202e;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:20px;font-weight:600}
header .sub{color:#b9c2d0;margin-top:4px}
main{padding:8px 28px 40px;max-width:1400px}
h2{font-size:16px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
section{overflow-x:auto}
th{background:var(--bg);font-weight:600;position:sticky;top:0}
td.num,th.num{text-align:right}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:10px}
.card{border:1px solid var(--line);border-radius:6px;padding:8px 12px;background:#fff}
.card .k{color:var(--mut);font-size:12px}
.card .v{font-size:15px;font-weight:600;word-break:break-word}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff;background:var(--pend)}
.o-upgraded{background:var(--ok)}.o-skipped{background:var(--skip)}.o-failed{background:var(--fail)}.o-unconfirmed{background:var(--unconf)}.o-compensated{background:var(--comp)}
.o-excluded{background:var(--excl)}.o-in-progress{background:var(--run)}.o-pending{background:var(--pend)}
.s-completed,.s-done{background:var(--ok)}.s-baking,.s-pending{background:var(--pend)}.s-halted,.s-compensated{background:var(--comp)}.s-aborted,.s-failed{background:var(--fail)}.s-paused,.s-waiting-approval,.s-waiting-window{background:var(--comp)}.s-running{background:var(--run)}
.counts{display:flex;flex-wrap:wrap;gap:6px;margin-top:10px}
.bar{display:flex;height:12px;border-radius:6px;overflow:hidden;background:var(--bg);margin-top:10px}
.bar span{display:block;height:100%}
.tl{position:relative;height:22px;background:var(--bg);border-radius:4px;min-width:200px}
.tl span{position:absolute;top:3px;height:16px;border-radius:3px;background:var(--run)}
.tl span.bake{background:#9cc3f0}
.err{color:var(--fail);font-weight:600}
.mut{color:var(--mut)}
.warn{background:#fff4e5;border:1px solid #f0c27b;padding:8px 12px;border-radius:6px}
.nowrap{white-space:nowrap}
footer{color:var(--mut);font-size:12px;margin-top:30px}
`;
