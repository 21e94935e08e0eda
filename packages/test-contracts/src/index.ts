export * from './gen/refront/testing/v1/echo.js';
export * from './gen/refront/testing/v1/events.js';
