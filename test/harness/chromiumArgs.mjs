// Chromium flags for this closed network: without the background-networking ones, Chromium keeps
// trying (and failing) to reach Google's services.
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
