import type { DeviceSelector, InventoryDevice } from '../../domain/types';

/** The device fields a selector looks at. */
export type SelectableDevice = Pick<InventoryDevice, 'smartAgId' | 'regionId' | 'group' | 'tags'>;

/** Whether a selector restricts anything (an absent or empty selector chooses every device). */
export function isEmptySelector(selector: DeviceSelector | undefined): boolean {
  if (!selector) return true;
  return (
    !selector.regions?.length &&
    !selector.groups?.length &&
    !selector.tags?.length &&
    !selector.devices?.length
  );
}

/**
 * Whether a selector chooses a device. Each listed criterion must hold (AND across `regions`,
 * `groups`, `tags`, `devices`); within one criterion any value will do (a device with any of the
 * tags, in any of the regions). An absent or empty selector chooses every device.
 */
export function matchesSelector(selector: DeviceSelector | undefined, device: SelectableDevice): boolean {
  if (!selector) return true;
  if (selector.regions?.length && !selector.regions.includes(device.regionId)) return false;
  if (selector.groups?.length && (device.group === undefined || !selector.groups.includes(device.group)))
    return false;
  if (selector.tags?.length && !(device.tags ?? []).some((t) => selector.tags?.includes(t))) return false;
  if (selector.devices?.length && !selector.devices.includes(device.smartAgId)) return false;
  return true;
}
