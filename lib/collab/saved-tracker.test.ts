import { describe, expect, it } from 'vitest';

import { SavedTracker } from './saved-tracker';

describe('SavedTracker', () => {
  it('is saved before any local change', () => {
    expect(new SavedTracker().isSaved()).toBe(true);
  });

  it('is saving after a local change until the frame carrying it is acknowledged', () => {
    const tracker = new SavedTracker();
    tracker.noteLocalChange();
    expect(tracker.isSaved()).toBe(false);
    tracker.noteChangeFrameSent();
    expect(tracker.isSaved()).toBe(false);
    tracker.noteAcknowledged(1);
    expect(tracker.isSaved()).toBe(true);
  });

  it('a deletion (no state-vector change) still needs its own acknowledgement', () => {
    const tracker = new SavedTracker();
    tracker.noteLocalChange();
    tracker.noteChangeFrameSent();
    tracker.noteAcknowledged(1);
    tracker.noteLocalChange(); // the deletion
    expect(tracker.isSaved()).toBe(false);
    tracker.noteAcknowledged(1); // an older acknowledgement arriving late
    expect(tracker.isSaved()).toBe(false);
    tracker.noteChangeFrameSent();
    tracker.noteAcknowledged(2);
    expect(tracker.isSaved()).toBe(true);
  });

  it('an acknowledgement of earlier frames does not cover later changes', () => {
    const tracker = new SavedTracker();
    for (let i = 0; i < 3; i++) {
      tracker.noteLocalChange();
      tracker.noteChangeFrameSent();
    }
    tracker.noteAcknowledged(2);
    expect(tracker.isSaved()).toBe(false);
    tracker.noteAcknowledged(3);
    expect(tracker.isSaved()).toBe(true);
  });

  it('changes made offline are saved once the new socket’s sync frame is acknowledged', () => {
    const tracker = new SavedTracker();
    tracker.noteLocalChange();
    tracker.noteChangeFrameSent(); // lost with the old socket
    tracker.noteLocalChange(); // made while offline, nothing sent
    tracker.noteNewSocket();
    tracker.noteAcknowledged(1); // an acknowledgement before anything was sent on this socket
    expect(tracker.isSaved()).toBe(false);
    tracker.noteChangeFrameSent(); // sync step 2 carries everything
    tracker.noteAcknowledged(1);
    expect(tracker.isSaved()).toBe(true);
  });
});
