// Language handling: zh-CN by default, English toggle stored in localStorage.
// Provides t() for our own UI and a bpmn-js `translate` module.
import zh from './i18n-zh.js';

const STORAGE_KEY = 'designer.lang';

export function getLang() {
  try { return localStorage.getItem(STORAGE_KEY) || 'zh-CN'; } catch (e) { return 'zh-CN'; }
}

export function setLang(lang) {
  try { localStorage.setItem(STORAGE_KEY, lang); } catch (e) { /* private mode */ }
}

export function t(template, replacements) {
  replacements = replacements || {};
  const lang = getLang();
  const source = lang === 'zh-CN' && Object.prototype.hasOwnProperty.call(zh, template) ? zh[template] : template;
  return source.replace(/{([^}]+)}/g, (_, key) => (key in replacements ? replacements[key] : `{${key}}`));
}

export function customTranslate(template, replacements) {
  return t(template, replacements);
}

export const TranslateModule = { translate: ['value', customTranslate] };

/** Fill [data-i18n] elements of a static page. */
export function translatePage(root = document) {
  root.documentElement && (root.documentElement.lang = getLang());
  root.querySelectorAll('[data-i18n]').forEach(el => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-title]').forEach(el => { el.title = t(el.dataset.i18nTitle); });
}

export function languageToggle() {
  const btn = document.createElement('button');
  btn.className = 'lang-toggle';
  btn.id = 'lang-toggle';
  btn.textContent = getLang() === 'zh-CN' ? 'English' : '中文';
  btn.title = 'Language / 语言';
  btn.addEventListener('click', () => {
    setLang(getLang() === 'zh-CN' ? 'en' : 'zh-CN');
    location.reload();
  });
  return btn;
}
