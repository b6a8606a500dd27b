// Builds the bpmn-js Modeler with properties panel, camunda + hospital moddle,
// translation and linting.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule } from 'bpmn-js-properties-panel';
import CamundaBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';
import lintModule from 'bpmn-js-bpmnlint';
import hospitalModdle from './hospital-moddle.json';
import HospitalPropertiesModule from './properties/index.js';
import { HospitalPaletteModule } from './palette-hospital.js';
import { TranslateModule } from './i18n.js';
import { lintConfig } from './lint.js';

export function createModeler(canvasEl, propertiesEl) {
  return new BpmnModeler({
    container: canvasEl,
    propertiesPanel: { parent: propertiesEl },
    linting: { bpmnlint: lintConfig, active: false },
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      CamundaPlatformPropertiesProviderModule,
      CamundaBehaviorsModule,
      HospitalPropertiesModule,
      HospitalPaletteModule,
      lintModule,
      TranslateModule
    ],
    moddleExtensions: { camunda: camundaModdle, hospital: hospitalModdle }
  });
}
