/**
 * The renderer's Content-Security-Policy, one policy for every way the UI is
 * served: the desktop app's app:// responses (src/main) and the web mode's
 * (src/web). src/renderer/index.html repeats it as a <meta> tag for loads
 * that carry no header; a test keeps the two equal.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // xterm and Monaco set inline styles; without this xterm renders blank.
  "style-src 'self' 'unsafe-inline'",
  // Monaco's workers.
  "worker-src 'self' blob:",
  "img-src 'self' data:",
  "font-src 'self' data:",
].join('; ');
