// A tiny inline SVG trend line (7 days on the KPI board); cheaper than a chart
// per row and still readable. Missing days break the line.
export function Sparkline({ values, label, colour = '#0f766e', width = 96, height = 28 }: { values: (number | null)[]; label: string; colour?: string; width?: number; height?: number }) {
  const nums = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (nums.length < 2) return <span className="muted small" title={label}>—</span>;
  const min = Math.min(...nums);
  const max = Math.max(...nums);
  const span = max - min || 1;
  const step = values.length > 1 ? (width - 4) / (values.length - 1) : 0;
  const y = (v: number) => height - 3 - ((v - min) / span) * (height - 6);
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${(2 + i * step).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  });
  const lastIdx = values.length - 1;
  const last = values[lastIdx];
  return (
    <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label} className="sparkline">
      <path d={d} fill="none" stroke={colour} strokeWidth={1.6} strokeLinejoin="round" strokeLinecap="round" />
      {last !== null && last !== undefined ? <circle cx={2 + lastIdx * step} cy={y(last)} r={2.4} fill={colour} /> : null}
    </svg>
  );
}
