using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using Storefront.Api.Infrastructure;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseMiddleware<AbandonedRequestMiddleware>();
builder.UseMiddleware<DatabaseOutageMiddleware>();
builder.AddApplicationServices();
await builder.Build().RunAsync();
