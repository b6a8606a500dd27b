// Adds "user task" and "service task" to the palette (analysts use them most).
export default function HospitalPalette(palette, create, elementFactory, translate) {
  this.getPaletteEntries = function() {
    const make = (type) => (event) => create.start(event, elementFactory.createShape({ type }));
    return {
      'create.user-task': {
        group: 'activity', className: 'bpmn-icon-user-task', title: translate('Create user task'),
        action: { dragstart: make('bpmn:UserTask'), click: make('bpmn:UserTask') }
      },
      'create.service-task': {
        group: 'activity', className: 'bpmn-icon-service-task', title: translate('Create service task'),
        action: { dragstart: make('bpmn:ServiceTask'), click: make('bpmn:ServiceTask') }
      }
    };
  };
  palette.registerProvider(500, this);
}
HospitalPalette.$inject = ['palette', 'create', 'elementFactory', 'translate'];

export const HospitalPaletteModule = {
  __init__: ['hospitalPalette'],
  hospitalPalette: ['type', HospitalPalette]
};
