global using EventSourcedCampaigns.Ports;
global using EventSourcedCampaigns.Delivery.Tests.Infrastructure;
global using EventSourcedCampaigns.IntegrationTests.Infrastructure;
global using Xunit;
