// Jest setup provided by Grafana scaffolding
import './.config/jest-setup';
import 'jest-canvas-mock';
import { MessageChannel } from 'worker_threads';

// React 19's scheduler needs MessageChannel, which jsdom 20 lacks.
Object.assign(global, { MessageChannel });
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
