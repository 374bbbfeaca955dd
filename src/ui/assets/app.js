// @ts-check
// Tailor's web UI entry: picks the page's view from <body data-page>, which the server sets.
import { startAudience } from './view-audience.js';
import { startAudiences } from './view-audiences.js';
import { startAudit } from './view-audit.js';
import { startHealth } from './view-health.js';
import { startOutputs } from './view-outputs.js';
import { startPrivacy, watchPrivacy } from './view-privacy.js';

/** @type {Partial<Record<string, (view: HTMLElement) => void>>} */
const VIEWS = {
  audiences: startAudiences,
  outputs: startOutputs,
  audience: startAudience,
  audit: startAudit,
  health: startHealth,
  privacy: startPrivacy,
};

const page = document.body.dataset.page;
const start = page === undefined ? undefined : VIEWS[page];
const view = document.getElementById('view');
if (start && view) start(view);
const banner = document.getElementById('privacy-banner');
if (banner && page !== 'privacy') watchPrivacy(banner);
