// The bundled workflows in the Templates browser in the order a new user should try them (digits
// first). The server lists a pack's templates in its folder's directory order (hash order on ext4),
// which no file name sets, and the front end keeps that order; names not listed here follow, sorted.
// tests/web/test_front_end_facts.py holds the list equal to tools/build_workflows.py's order.
import { api } from "../../scripts/api.js";
import { app } from "../../scripts/app.js";

export const TEMPLATE_ORDER = [
  "autoguidance-digits",
  "autoguidance-schedule-showcase",
  "autoguidance-pair-inspector",
  "sd15-ksampler-autoguidance-patch",
  "sdxl-autoguidance-cfg-interval",
  "sd35-large-medium-autoguidance",
  "flux1-dev-autoguidance",
  "edm2-img512-s-xs-autoguidance",
  "edm2-img512-xxl-m-autoguidance",
];
const PACK = decodeURIComponent(new URL(import.meta.url).pathname.split("/").at(-2));  // /extensions/<folder>/

const rank = (name) => (TEMPLATE_ORDER.includes(name) ? TEMPLATE_ORDER.indexOf(name) : TEMPLATE_ORDER.length);
const listed = api.getWorkflowTemplates?.bind(api);
if (listed)
  api.getWorkflowTemplates = async () => {
    const all = await listed();
    if (Array.isArray(all?.[PACK])) all[PACK] = [...all[PACK]].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    return all;
  };

app.registerExtension({ name: "autoguidance.TemplateOrder" });
