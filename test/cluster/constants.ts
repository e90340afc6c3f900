/** A namespace of the cluster whose workflows are told to continue as new after a few dozen events. */
export const CAN_NAMESPACE = 'sag-can';
export const CAN_THRESHOLD = 40;
