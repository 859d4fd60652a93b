// Jest setup provided by Grafana scaffolding
import './.config/jest-setup';
import 'jest-canvas-mock';
import { MessageChannel } from 'worker_threads';

// React 19's scheduler posts its work through a MessageChannel, which jsdom 20
// lacks. Node's ports keep the process alive while listened to, so jest would
// never exit when it runs in band: unref them as React starts listening.
class UnrefMessageChannel extends MessageChannel {
  constructor() {
    super();
    for (const port of [this.port1, this.port2]) {
      Object.defineProperty(port, 'onmessage', {
        set(handler) {
          this.removeAllListeners('message');
          if (handler) {
            this.on('message', (data) => handler({ data }));
            this.unref();
          }
        },
      });
    }
  }
}
Object.assign(global, { MessageChannel: UnrefMessageChannel });
// Scenes lazy-loads panels with IntersectionObserver, which jsdom lacks.
class NoopIntersectionObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
  takeRecords() {
    return [];
  }
}
Object.assign(global, { IntersectionObserver: NoopIntersectionObserver });
