import HospitalPropertiesProvider from './hospital-provider.js';

export default {
  __init__: ['hospitalPropertiesProvider'],
  hospitalPropertiesProvider: ['type', HospitalPropertiesProvider]
};
