global using EventSourcedCampaigns.Decisions;
global using EventSourcedCampaigns.Marten;
global using EventSourcedCampaigns.Ports;
global using EventSourcedCampaigns.Testing;
global using EventSourcedCampaigns.Wolverine;
global using EventSourcedCampaigns.Delivery.Tests.Infrastructure;
global using EventSourcedCampaigns.IntegrationTests.Infrastructure;
global using Xunit;
