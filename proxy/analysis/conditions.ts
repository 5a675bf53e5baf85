// The result of one status check, before it becomes a metav1.Condition (which also needs a type, a
// generation and a transition time, added by the status computation).
export interface Verdict {
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

export const ok = (reason: string, message = ''): Verdict => ({ status: 'True', reason, message });
export const fail = (reason: string, message: string): Verdict => ({ status: 'False', reason, message });
